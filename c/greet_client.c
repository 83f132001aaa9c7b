/* Bob's side of the lecture's dialogue in a few lines of C: say the greeting, read the answer up
 * to its newline (looping: one read() may return only part of it), say the closing line, shut
 * down our side and read until the server closes. Prints what the server said. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

int main(int argc, char *argv[])
{
    struct sockaddr_in serv_addr;
    char answer[1024], greeting[256], closing[256], rest[64];
    int sock, len = 0, n;
    if(argc!=4){ printf("Usage : %s <IP> <port> <name>\n", argv[0]); exit(1); }
    sock=socket(PF_INET, SOCK_STREAM, 0);
    memset(&serv_addr, 0, sizeof(serv_addr));
    serv_addr.sin_family=AF_INET;
    serv_addr.sin_addr.s_addr=inet_addr(argv[1]);
    serv_addr.sin_port=htons(atoi(argv[2]));
    if(connect(sock, (struct sockaddr*)&serv_addr, sizeof(serv_addr))==-1){ fputs("connect() error!\n", stderr); exit(1); }
    snprintf(greeting, sizeof(greeting), "Hi. I'm %s.\r\n", argv[3]);
    write(sock, greeting, strlen(greeting));
    while(len < (int)sizeof(answer)-1 && (len==0 || answer[len-1]!='\n')){
        n=read(sock, answer+len, sizeof(answer)-1-len);
        if(n<=0){ fputs("read() error!\n", stderr); exit(1); }
        len+=n;
    }
    answer[len]=0;
    printf("Server: %s", answer);
    /* The answer is "Hi, <me>. I'm <server>\n": the server's name follows "I'm ". */
    answer[len-1]=0;
    snprintf(closing, sizeof(closing), "Nice to meet you, %s.\n", strstr(answer, "I'm ")+4);
    write(sock, closing, strlen(closing));
    shutdown(sock, SHUT_WR);
    while((n=read(sock, rest, sizeof(rest)))>0)
        fwrite(rest, 1, n, stdout);
    close(sock);
    return 0;
}
