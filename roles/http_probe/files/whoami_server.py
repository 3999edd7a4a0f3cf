"""A tiny HTTP server that answers every GET with the address it saw the client come from.

    whoami_server.py PORT [REQUESTS [SECONDS]]

It exits after answering REQUESTS requests (default 1) or after SECONDS
(default 60), whichever comes first, so a lab check never leaves a process
behind. The netvirt.linux.http_probe role runs it inside a namespace
to prove what a NAT did: the body is the source address after translation.
"""
import http.server
import sys
import threading


class WhoAmI(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('%s\n' % self.client_address[0]).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.answered += 1
        if self.server.answered >= self.server.wanted:
            threading.Thread(target=self.server.shutdown).start()

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1])
    wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    server = http.server.ThreadingHTTPServer(('0.0.0.0', port), WhoAmI)
    server.answered, server.wanted = 0, wanted
    timer = threading.Timer(seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()
    server.server_close()


if __name__ == '__main__':
    main()
