/*
 * The ceiling of bench/load.sh: a single-threaded edge-triggered epoll responder that does no HTTP work.
 * It counts the request heads in what it receives ("\r\n\r\n") and answers each with the same fixed
 * plaintext response, all answers of one read in one send. No server can take less CPU per request over
 * this harness, so its ratio to Kestrel is the best any ratio can be on the machine of the run.
 * Usage: ceiling PORT (listens on 127.0.0.1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nServer: c\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\n"
                               "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
#define RESPONSE_LENGTH (sizeof RESPONSE - 1)
#define MAX_BATCH 64
static char responses[MAX_BATCH * RESPONSE_LENGTH];

struct connection { int fd; unsigned matched; unsigned owed; char buffer[4096]; };

/* Heads ended in p[0..n), carrying the partial match of "\r\n\r\n" from one read to the next. */
static unsigned count_heads(const char *p, ssize_t n, unsigned *matched) {
    unsigned heads = 0, m = *matched;
    for (ssize_t i = 0; i < n; i++) {
        if (p[i] == "\r\n\r\n"[m]) { if (++m == 4) { heads++; m = 0; } }
        else m = p[i] == '\r';
    }
    *matched = m;
    return heads;
}

/* Sends what is owed; the benchmark's responses always fit the socket buffer, so a short send ends it. */
static int answer(struct connection *c) {
    while (c->owed) {
        unsigned n = c->owed > MAX_BATCH ? MAX_BATCH : c->owed;
        if (send(c->fd, responses, n * RESPONSE_LENGTH, MSG_NOSIGNAL) != (ssize_t)(n * RESPONSE_LENGTH)) return -1;
        c->owed -= n;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: ceiling PORT\n"); return 2; }
    for (int i = 0; i < MAX_BATCH; i++) memcpy(responses + i * RESPONSE_LENGTH, RESPONSE, RESPONSE_LENGTH);
    int one = 1, listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 1024)) { perror("listen"); return 1; }
    int epoll = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[256];
    for (;;) {
        int count = epoll_wait(epoll, events, 256, -1);
        for (int i = 0; i < count; i++) {
            struct connection *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.ptr = c };
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            int done = 0;
            for (;;) {
                ssize_t n = recv(c->fd, c->buffer, sizeof c->buffer, 0);
                if (n > 0) { c->owed += count_heads(c->buffer, n, &c->matched); if (n < (ssize_t)sizeof c->buffer) break; continue; }
                if (n < 0 && errno == EAGAIN) break;
                done = 1;
                break;
            }
            if (done || answer(c) < 0) { close(c->fd); free(c); }
        }
    }
}
