/* The lecture's TCP hello client, written for this project as the C reference that hclient is
 * compared with: `hello_client <IP> <port>` connects over IPv4, reads once and prints
 * "Message from server: <text> " and a newline, as the lecture's program does. The text ends at the
 * server's NUL byte, or at the end of what one read() returned (at most 29 bytes). */
#include <arpa/inet.h>
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

int main(int argc, char *argv[])
{
    if (argc != 3) {
        printf("Usage : %s <IP> <port>\n", argv[0]);
        exit(1);
    }

    /* Step 1: a TCP socket. */
    int sock = socket(PF_INET, SOCK_STREAM, 0);
    if (sock == -1) fail("socket() error");

    /* Step 2: ask the server for a connection. */
    struct sockaddr_in server;
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = inet_addr(argv[1]);
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    if (connect(sock, (struct sockaddr *)&server, sizeof server) == -1) fail("connect() error!");

    /* Step 3: one read, as in the lecture; the buffer keeps room for a terminating NUL. */
    char text[30];
    ssize_t got = read(sock, text, sizeof text - 1);
    if (got == -1) fail("read() error!");
    text[got] = '\0';
    printf("Message from server: %s \n", text);

    /* Step 4: close the connection. */
    close(sock);
    return 0;
}
