"""TLS peers made of Python's `gear` library (PyPI), for the TLS interop tests.

    gear_peer.py server PORT CA CERT KEY      a gear job server (asks clients for certificates)
    gear_peer.py worker PORT CA CERT KEY      a worker for "reverse" (reverses the workload)
    gear_peer.py client PORT CA CERT KEY SIZE submits "reverse" with SIZE bytes, checks the result

Each prints "ready" once it is listening or connected; the client prints "ok LEN" at the end.
gear verifies the peer's certificate against CA (no host name check) and offers CERT/KEY.
"""
import signal
import sys
import time

import gear


def main():
    mode, port, ca, cert, key = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
    if mode == "server":
        gear.Server(port, ssl_key=key, ssl_cert=cert, ssl_ca=ca, host="127.0.0.1")
        print("ready", flush=True)
        signal.pause()
    elif mode == "worker":
        w = gear.Worker("tls-test-worker")
        w.addServer("127.0.0.1", port, ssl_key=key, ssl_cert=cert, ssl_ca=ca)
        w.waitForServer(timeout=20)
        w.registerFunction("reverse")
        print("ready", flush=True)
        while True:
            job = w.getJob()
            job.sendWorkComplete(bytes(job.arguments)[::-1])
    elif mode == "client":
        size = int(sys.argv[6])
        c = gear.Client("tls-test-client")
        c.addServer("127.0.0.1", port, ssl_key=key, ssl_cert=cert, ssl_ca=ca)
        c.waitForServer(timeout=20)
        print("ready", flush=True)
        payload = bytes(i % 251 for i in range(size))
        job = gear.Job(b"reverse", payload)
        c.submitJob(job, timeout=20)
        deadline = time.time() + 30
        while not job.complete and time.time() < deadline:
            time.sleep(0.01)
        if not job.complete or job.failure:
            print("job failed", flush=True)
            sys.exit(1)
        result = b"".join(job.data)
        if result != payload[::-1]:
            print("wrong result: %d bytes" % len(result), flush=True)
            sys.exit(1)
        print("ok %d" % len(result), flush=True)
        c.shutdown()
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
