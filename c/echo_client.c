/* An interactive TCP echo client, written for this project as a C peer for hserver's echo service.
 * It keeps the prompt and output of the textbook's echo client, which the interop tests compare:
 * "Input message(Q to quit): " before each line, "Message from server: <line>" after it. A line of
 * just q or Q (or the end of input) ends it. Since one read() may return part of a line, it reads
 * until as many bytes came back as it sent. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

static void fail(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

static void send_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t sent = write(fd, data, length);
        if (sent == -1 && errno == EINTR) continue;
        if (sent <= 0) fail("write() error!");
        data += sent;
        length -= (size_t)sent;
    }
}

static void read_exactly(int fd, char *into, size_t length)
{
    while (length > 0) {
        ssize_t got = read(fd, into, length);
        if (got == -1 && errno == EINTR) continue;
        if (got <= 0) fail("read() error!");
        into += got;
        length -= (size_t)got;
    }
}

static int is_quit(const char *line)
{
    return strcmp(line, "q\n") == 0 || strcmp(line, "Q\n") == 0;
}

int main(int argc, char *argv[])
{
    if (argc != 3) {
        printf("Usage : %s <IP> <port>\n", argv[0]);
        exit(1);
    }
    int sock = socket(PF_INET, SOCK_STREAM, 0);
    if (sock == -1) fail("socket() error");
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = inet_addr(argv[1]);
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    if (connect(sock, (struct sockaddr *)&server, sizeof server) == -1) fail("connect() error!");

    char line[LINE_MAX_BYTES];
    char reply[LINE_MAX_BYTES];
    for (;;) {
        fputs("Input message(Q to quit): ", stdout);
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL || is_quit(line)) break;
        size_t length = strlen(line);
        send_all(sock, line, length);
        read_exactly(sock, reply, length);
        reply[length] = '\0';
        printf("Message from server: %s", reply);
    }
    close(sock);
    return 0;
}
