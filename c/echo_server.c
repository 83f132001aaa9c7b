/* An iterative TCP echo server (RFC 862), written for this project as a C peer for hclient's echo
 * client: `echo_server <port> <clients>` binds 127.0.0.1, prints
 * "echo_server: listening on 127.0.0.1:PORT" on stderr (port 0 picks one), then serves <clients>
 * clients one after another, sending back every byte until the client closes, and exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void fail(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

/* write() may take only part of a buffer; keep going until all of it is out. */
static int send_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t sent = write(fd, data, length);
        if (sent == -1 && errno == EINTR) continue;
        if (sent <= 0) return -1;
        data += sent;
        length -= (size_t)sent;
    }
    return 0;
}

static void echo_until_eof(int client)
{
    char chunk[4096];
    for (;;) {
        ssize_t got = read(client, chunk, sizeof chunk);
        if (got == -1 && errno == EINTR) continue;
        if (got <= 0 || send_all(client, chunk, (size_t)got) == -1) return;
    }
}

int main(int argc, char *argv[])
{
    if (argc != 3) {
        printf("Usage : %s <port> <clients>\n", argv[0]);
        exit(1);
    }
    int remaining = atoi(argv[2]);

    int listener = socket(PF_INET, SOCK_STREAM, 0);
    if (listener == -1) fail("socket() error");
    struct sockaddr_in self;
    memset(&self, 0, sizeof self);
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    self.sin_port = htons((unsigned short)atoi(argv[1]));
    if (bind(listener, (struct sockaddr *)&self, sizeof self) == -1) fail("bind() error");
    if (listen(listener, 5) == -1) fail("listen() error");

    socklen_t self_len = sizeof self;
    if (getsockname(listener, (struct sockaddr *)&self, &self_len) == -1) fail("getsockname() error");
    fprintf(stderr, "echo_server: listening on 127.0.0.1:%d\n", ntohs(self.sin_port));

    for (; remaining > 0; remaining--) {
        int client = accept(listener, NULL, NULL);
        if (client == -1) fail("accept() error");
        echo_until_eof(client);
        close(client);
    }
    close(listener);
    return 0;
}
