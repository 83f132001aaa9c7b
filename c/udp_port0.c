/* Sends one UDP datagram with source port 0 to 127.0.0.1:PORT through a raw socket (needs
 * CAP_NET_RAW). Usage: udp_port0 PORT. Exit 0 when sent; 77 when raw sockets are not permitted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
    if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    int s = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
    if (s == -1) { perror("socket"); return (errno == EPERM || errno == EACCES) ? 77 : 1; }
    unsigned char packet[10];
    unsigned short src = htons(0), dst = htons((unsigned short)atoi(argv[1])), len = htons(10), sum = 0;
    memcpy(packet, &src, 2); memcpy(packet + 2, &dst, 2); memcpy(packet + 4, &len, 2); memcpy(packet + 6, &sum, 2);
    memcpy(packet + 8, "hi", 2);
    struct sockaddr_in to;
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(s, packet, sizeof(packet), 0, (struct sockaddr *)&to, sizeof(to)) == -1) { perror("sendto"); return 1; }
    close(s);
    return 0;
}
