/* The benchmark's UDP load client, written for this project: `udp_load <IPv4> <port> <in flight>
 * <seconds>` sends small requests from one socket to a UDP hello or echo server on loopback,
 * keeping <in flight> of them outstanding (a reply, or 50 ms without one, lets the next go), for
 * <seconds>. It prints one line, "replies=N sent=S secs=T rps=R", and exits 0 if any reply came.
 * Loopback destinations only. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
    if (argc != 5) {
        printf("Usage : %s <IPv4> <port> <in flight> <seconds>\n", argv[0]);
        return 1;
    }
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1 || (ntohl(server.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "udp_load: loopback (127.x.x.x) destinations only\n");
        return 1;
    }
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    int window = atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (window < 1 || window > 4096 || !(seconds > 0) || seconds > 600) {
        fprintf(stderr, "udp_load: 1 to 4096 in flight, 0 to 600 seconds\n");
        return 1;
    }
    int fd = socket(PF_INET, SOCK_DGRAM, 0);
    if (fd == -1 || connect(fd, (struct sockaddr *)&server, sizeof server) == -1) {
        perror("connect() error");
        return 1;
    }
    int buffer = 4 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    const char request[] = "hello";
    char reply[2048];
    long replies = 0, sent = 0;
    double start = now(), end = start + seconds;
    for (int i = 0; i < window; i++)
        if (send(fd, request, sizeof request - 1, 0) > 0) sent++;
    while (now() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, 50);
        if (ready == 0) {
            /* Lost, or refused: refill the window. */
            for (int i = 0; i < window; i++)
                if (send(fd, request, sizeof request - 1, 0) > 0) sent++;
            continue;
        }
        for (;;) {
            ssize_t got = recv(fd, reply, sizeof reply, MSG_DONTWAIT);
            if (got < 0) break;
            replies++;
            if (send(fd, request, sizeof request - 1, 0) > 0) sent++;
        }
    }
    double secs = now() - start;
    printf("replies=%ld sent=%ld secs=%.3f rps=%.0f\n", replies, sent, secs, (double)replies / secs);
    close(fd);
    return replies > 0 ? 0 : 1;
}
