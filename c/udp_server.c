/* A UDP server for the interop tests, written for this project after the lecture's UDP flow
 * (socket, bind, then recvfrom/sendto in a loop):
 *   udp_server <IP> <port> <hello|echo> <count>
 * binds <IP>:<port> (0 picks a port), prints "listening on IP:PORT" on stderr, answers <count>
 * datagrams and exits 0. "hello" answers each datagram with "Hello World!" and its NUL (13 bytes);
 * "echo" sends each datagram back as it came. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char GREETING[] = "Hello World!";

static void fail(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

int main(int argc, char *argv[])
{
    if (argc != 5) {
        printf("Usage : %s <IP> <port> <hello|echo> <count>\n", argv[0]);
        exit(1);
    }
    int hello = strcmp(argv[3], "hello") == 0;
    int count = atoi(argv[4]);

    int sock = socket(PF_INET, SOCK_DGRAM, 0);
    if (sock == -1) fail("socket() error");
    struct sockaddr_in self;
    memset(&self, 0, sizeof self);
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = inet_addr(argv[1]);
    self.sin_port = htons((unsigned short)atoi(argv[2]));
    if (bind(sock, (struct sockaddr *)&self, sizeof self) == -1) fail("bind() error");
    socklen_t self_len = sizeof self;
    if (getsockname(sock, (struct sockaddr *)&self, &self_len) == -1) fail("getsockname() error");
    fprintf(stderr, "listening on %s:%d\n", argv[1], ntohs(self.sin_port));

    static char datagram[65536]; /* the largest UDP payload fits */
    for (int i = 0; i < count; i++) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t got = recvfrom(sock, datagram, sizeof datagram, 0, (struct sockaddr *)&from, &from_len);
        if (got == -1) fail("recvfrom() error");
        const char *reply = hello ? GREETING : datagram;
        size_t reply_len = hello ? sizeof GREETING : (size_t)got;
        if (sendto(sock, reply, reply_len, 0, (struct sockaddr *)&from, from_len) == -1) fail("sendto() error");
    }
    close(sock);
    return 0;
}
