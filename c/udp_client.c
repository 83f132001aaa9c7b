/* A UDP client for the interop tests, written for this project after the lecture's UDP flow
 * (socket, sendto, recvfrom, close):
 *   udp_client <IP> <port> <message>
 * sends <message> as one datagram, waits at most 5 s for one reply, prints
 * "Message from server: <reply>" on stdout and "received N bytes from port P" on stderr. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void fail(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

int main(int argc, char *argv[])
{
    if (argc != 4) {
        printf("Usage : %s <IP> <port> <message>\n", argv[0]);
        exit(1);
    }
    int sock = socket(PF_INET, SOCK_DGRAM, 0);
    if (sock == -1) fail("socket() error");
    /* A test must not hang on a reply that never comes. */
    struct timeval wait = {5, 0};
    if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == -1) fail("setsockopt() error");

    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = inet_addr(argv[1]);
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    if (sendto(sock, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&server, sizeof server) == -1)
        fail("sendto() error");

    static char reply[65536];
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t got = recvfrom(sock, reply, sizeof reply - 1, 0, (struct sockaddr *)&from, &from_len);
    if (got == -1) fail("recvfrom() error");
    reply[got] = '\0';
    printf("Message from server: %s\n", reply);
    fprintf(stderr, "received %zd bytes from port %d\n", got, ntohs(from.sin_port));
    close(sock);
    return 0;
}
