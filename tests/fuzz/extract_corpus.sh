#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# extract_corpus.sh: turns a capture of idloc traffic (UDP port 10500, e.g. from the
# integration test with IDLOC_KEEP_CAPTURE=DIR) into fuzz seeds: each HIP control
# packet (UDP payload minus the 4-byte zero marker) into corpus/fuzz_hip_msg/cap-<frame>.bin
# and each ESP packet (the whole UDP payload) into corpus/fuzz_esp_decap/cap-<frame>.bin.
# Usage: tests/fuzz/extract_corpus.sh CAPTURE [CORPUS_DIR] [PORT]
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
	echo "usage: $0 CAPTURE [CORPUS_DIR] [PORT]" >&2
	exit 2
fi
cap=$1
corpus=${2:-$(dirname "$0")/corpus}
port=${3:-10500}

if [[ ! -r $cap ]]; then
	echo "$0: cannot read '$cap'" >&2
	exit 1
fi
if ! command -v tshark >/dev/null; then
	echo "$0: tshark is not installed (scripts/setup installs it)" >&2
	exit 1
fi

mkdir -p "$corpus/fuzz_hip_msg" "$corpus/fuzz_esp_decap"

# write_hex FILE HEX: writes the bytes the hex string spells.
write_hex()
{
	local file=$1 hex=$2
	if [[ ! $hex =~ ^([0-9a-fA-F]{2})*$ ]]; then
		echo "$0: not hex: '$hex'" >&2
		return 1
	fi
	# shellcheck disable=SC2001,SC2059
	printf "$(sed 's/../\\x&/g' <<<"$hex")" >"$file"
}

n_hip=0
n_esp=0
while IFS=$'\t' read -r frame payload; do
	payload=${payload//:/}
	if [[ ${#payload} -lt 8 ]]; then
		continue
	fi
	if [[ ${payload:0:8} == 00000000 ]]; then
		write_hex "$corpus/fuzz_hip_msg/cap-$frame.bin" "${payload:8}"
		n_hip=$((n_hip + 1))
	else
		write_hex "$corpus/fuzz_esp_decap/cap-$frame.bin" "$payload"
		n_esp=$((n_esp + 1))
	fi
done < <(tshark -r "$cap" -Y "udp.port == $port" -T fields -e frame.number -e udp.payload 2>/dev/null)

echo "extracted $n_hip HIP packets into $corpus/fuzz_hip_msg"
echo "extracted $n_esp ESP packets into $corpus/fuzz_esp_decap"
