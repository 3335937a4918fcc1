#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# delay_switch.py: an Ethernet switch in user space that holds every frame
# DELAY_MS before passing it on, between the given interfaces (veth ends of
# one namespace, none of them in a bridge). first_connection.sh uses it for
# its added underlay delay where the kernel has no netem: every frame between
# two hosts waits once, so a round trip takes twice DELAY_MS more.
#
# Usage: delay_switch.py DELAY_MS IFACE...
# It learns source addresses as a bridge does, floods broadcasts and unknown
# destinations, and keeps the order of frames. Frames pass with their
# virtio-net header (PACKET_VNET_HDR), so offloaded checksums and GSO
# super-frames from the hosts' stacks go through intact. On SIGTERM it prints
# "frames N dropped M" and exits 0.
import heapq
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VNET_HDR_LEN = 10  # struct virtio_net_hdr
PACKET_OUTGOING = 4


def open_port(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((name, ETH_P_ALL))
    s.setblocking(False)
    return s


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: delay_switch.py DELAY_MS IFACE IFACE...")
    delay = float(sys.argv[1]) / 1000
    ports = {}
    for name in sys.argv[2:]:
        s = open_port(name)
        ports[s.fileno()] = s
    poller = select.poll()
    for fd in ports:
        poller.register(fd, select.POLLIN)
    where = {}  # source MAC -> the port it was seen on
    queue = []  # (due, sequence, port, frame)
    seq = frames = dropped = 0
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running:
        wait = None if not queue else max(0.0, queue[0][0] - time.monotonic()) * 1000
        try:
            ready = poller.poll(wait)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in ready:
            port = ports[fd]
            while True:
                try:
                    frame, addr = port.recvfrom(65536 + VNET_HDR_LEN)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING or len(frame) < VNET_HDR_LEN + 14:
                    continue
                eth = frame[VNET_HDR_LEN:]
                where[eth[6:12]] = port
                out = None if eth[0] & 1 else where.get(eth[0:6])
                for p in [out] if out else [p for p in ports.values() if p is not port]:
                    heapq.heappush(queue, (now + delay, seq, p, frame))
                    seq += 1
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, p, frame = heapq.heappop(queue)
            try:
                p.send(frame)
                frames += 1
            except OSError:
                dropped += 1
    print(f"frames {frames} dropped {dropped}", flush=True)


if __name__ == "__main__":
    main()
