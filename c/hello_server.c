/* The lecture's TCP hello server, written for this project as the C reference that our Node
 * servers are compared with: same command line, same messages, same 13 bytes on the wire
 * ("Hello World!" and its terminating NUL), IPv4 on every address.
 *
 *   hello_server <port>                  one client, then exit (the lecture's program)
 *   hello_server_loop <port> [backlog]   built with -DACCEPT_LOOP: step 4 of the lecture, repeated
 *                                        until killed; the benchmark's reference server
 *
 * The lecture's steps are numbered in the comments. Errors go to stderr with the lecture's
 * prefix ("bind() error") and exit 1. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char GREETING[] = "Hello World!"; /* sizeof includes the NUL, which is sent too */

static void fail(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

#ifdef ACCEPT_LOOP
#define USAGE "Usage : %s <port> [backlog]\n"
#define MAX_ARGS 3
#else
#define USAGE "Usage : %s <port>\n"
#define MAX_ARGS 2
#endif

/* Step 4: accept one client (a), send the greeting (b), close its socket (c). */
static void serve_one(int listener)
{
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    int client = accept(listener, (struct sockaddr *)&peer, &peer_len);
    if (client == -1) {
#ifdef ACCEPT_LOOP
        return; /* a client that reset before accept(): the server goes on */
#else
        fail("accept() error");
#endif
    }
    if (write(client, GREETING, sizeof GREETING) == -1) {
        /* the client may be gone already; nothing to tell it */
    }
    close(client);
}

int main(int argc, char *argv[])
{
    if (argc < 2 || argc > MAX_ARGS) {
        printf(USAGE, argv[0]);
        exit(1);
    }
    int backlog = 5; /* the lecture's listen() backlog */
#ifdef ACCEPT_LOOP
    if (argc == 3) backlog = atoi(argv[2]);
#endif

    /* Step 1: a TCP socket. */
    int listener = socket(PF_INET, SOCK_STREAM, 0);
    if (listener == -1) fail("socket() error");

    /* Step 2: an address and a port, any local address. */
    struct sockaddr_in self;
    memset(&self, 0, sizeof self);
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(INADDR_ANY);
    self.sin_port = htons((unsigned short)atoi(argv[1]));
    if (bind(listener, (struct sockaddr *)&self, sizeof self) == -1) fail("bind() error");

    /* Step 3: ready to take connection requests. */
    if (listen(listener, backlog) == -1) fail("listen() error");

#ifdef ACCEPT_LOOP
    for (;;) serve_one(listener);
#else
    serve_one(listener);
#endif

    /* Step 5: close the listening socket. */
    close(listener);
    return 0;
}
