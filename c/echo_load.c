/* The benchmark's echo throughput client, written for this project: `echo_load <IPv4> <port>
 * <connections> <MiB each>` opens the connections to loopback, and on each sends that many MiB
 * in 64 KiB writes from one thread while another reads the echo back, checking every byte; then
 * it half-closes and waits for the server's close. It prints one line,
 * "ok=N bytes=B secs=S mbps=M" (mbps: MB/s, 10^6 bytes, one direction, all connections), and
 * exits 0 only if every connection got back exactly what it sent. Loopback destinations only. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

struct connection {
    int fd;
    uint64_t total;
    uint64_t received;
    int ok;
};

/* Byte i of every stream is i % 251 (a prime, so that a lost or repeated 64 KiB block shows).
 * table[k .. k + CHUNK) is the stream from any offset with offset % 251 == k. */
static unsigned char table[CHUNK + 251];

static void *sender(void *argument)
{
    struct connection *c = argument;
    for (uint64_t sent = 0; sent < c->total;) {
        size_t n = c->total - sent < CHUNK ? (size_t)(c->total - sent) : CHUNK;
        const unsigned char *chunk = table + sent % 251;
        for (size_t done = 0; done < n;) {
            ssize_t w = write(c->fd, chunk + done, n - done);
            if (w == -1 && errno == EINTR) continue;
            if (w <= 0) return NULL;
            done += (size_t)w;
        }
        sent += n;
    }
    shutdown(c->fd, SHUT_WR);
    return NULL;
}

static void *receiver(void *argument)
{
    struct connection *c = argument;
    unsigned char chunk[CHUNK];
    int good = 1;
    for (;;) {
        ssize_t got = read(c->fd, chunk, sizeof chunk);
        if (got == -1 && errno == EINTR) continue;
        if (got <= 0) break;
        good = good && memcmp(chunk, table + c->received % 251, (size_t)got) == 0;
        c->received += (uint64_t)got;
    }
    c->ok = good && c->received == c->total;
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
    if (argc != 5) {
        printf("Usage : %s <IPv4> <port> <connections> <MiB each>\n", argv[0]);
        return 1;
    }
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1 || (ntohl(server.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "echo_load: loopback (127.x.x.x) destinations only\n");
        return 1;
    }
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    int count = atoi(argv[3]);
    uint64_t total = (uint64_t)atoll(argv[4]) * 1024 * 1024;
    if (count < 1 || count > 1024 || total == 0) {
        fprintf(stderr, "echo_load: 1 to 1024 connections of at least 1 MiB\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof table; i++) table[i] = (unsigned char)(i % 251);
    struct connection *all = calloc((size_t)count, sizeof *all);
    pthread_t *threads = calloc((size_t)count * 2, sizeof *threads);
    for (int i = 0; i < count; i++) {
        all[i].fd = socket(PF_INET, SOCK_STREAM, 0);
        all[i].total = total;
        if (all[i].fd == -1 || connect(all[i].fd, (struct sockaddr *)&server, sizeof server) == -1) {
            perror("connect() error");
            return 1;
        }
    }
    double start = now();
    for (int i = 0; i < count; i++) {
        pthread_create(&threads[2 * i], NULL, sender, &all[i]);
        pthread_create(&threads[2 * i + 1], NULL, receiver, &all[i]);
    }
    int ok = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(threads[2 * i], NULL);
        pthread_join(threads[2 * i + 1], NULL);
        ok += all[i].ok;
        bytes += all[i].received;
        close(all[i].fd);
    }
    double secs = now() - start;
    printf("ok=%d bytes=%llu secs=%.3f mbps=%.1f\n", ok, (unsigned long long)bytes, secs, (double)bytes / secs / 1e6);
    return ok == count ? 0 : 1;
}
