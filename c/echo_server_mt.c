/* A threaded TCP echo server (RFC 862), written for this project as the benchmark's C reference
 * for `hserver --service echo`: `echo_server_mt <port>` binds 127.0.0.1 (port 0 picks one),
 * prints "echo_server_mt: listening on 127.0.0.1:PORT" on stderr, and serves every client on a
 * thread of its own with 64 KiB reads, sending back every byte until the client closes its side,
 * then closing. It runs until it is killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void *serve(void *argument)
{
    int client = (int)(intptr_t)argument;
    static __thread char chunk[64 * 1024];
    for (;;) {
        ssize_t got = read(client, chunk, sizeof chunk);
        if (got == -1 && errno == EINTR) continue;
        if (got <= 0) break;
        for (ssize_t done = 0; done < got;) {
            ssize_t sent = write(client, chunk + done, (size_t)(got - done));
            if (sent == -1 && errno == EINTR) continue;
            if (sent <= 0) goto out;
            done += sent;
        }
    }
out:
    close(client);
    return NULL;
}

int main(int argc, char *argv[])
{
    if (argc != 2) {
        printf("Usage : %s <port>\n", argv[0]);
        exit(1);
    }
    int listener = socket(PF_INET, SOCK_STREAM, 0);
    if (listener == -1) fail("socket() error");
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in self;
    memset(&self, 0, sizeof self);
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    self.sin_port = htons((unsigned short)atoi(argv[1]));
    if (bind(listener, (struct sockaddr *)&self, sizeof self) == -1) fail("bind() error");
    if (listen(listener, 4096) == -1) fail("listen() error");
    socklen_t self_len = sizeof self;
    if (getsockname(listener, (struct sockaddr *)&self, &self_len) == -1) fail("getsockname() error");
    fprintf(stderr, "echo_server_mt: listening on 127.0.0.1:%d\n", ntohs(self.sin_port));

    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client == -1) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            fail("accept() error");
        }
        pthread_t thread;
        if (pthread_create(&thread, &attributes, serve, (void *)(intptr_t)client) != 0) close(client);
    }
}
