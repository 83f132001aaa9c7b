/* Jane's side of the lecture's dialogue in a few lines of C, for one client: read the greeting,
 * answer it, read the closing line, close. Prints both lines it read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

/* Reads one line (up to and without its \n) a byte at a time: simple, and never reads past it. */
static int read_line(int sock, char *buf, int size)
{
    int len = 0;
    char c;
    while(len < size-1 && read(sock, &c, 1)==1 && c!='\n')
        buf[len++]=c;
    buf[len]=0;
    return len;
}

int main(int argc, char *argv[])
{
    struct sockaddr_in addr;
    socklen_t addr_sz = sizeof(addr);
    char line[512], name[256], answer[600];
    int serv_sock, clnt_sock, len;
    if(argc!=2){ printf("Usage : %s <port>\n", argv[0]); exit(1); }
    serv_sock=socket(PF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family=AF_INET;
    addr.sin_addr.s_addr=inet_addr("127.0.0.1");
    addr.sin_port=htons(atoi(argv[1]));
    if(bind(serv_sock, (struct sockaddr*)&addr, sizeof(addr))==-1){ fputs("bind() error\n", stderr); exit(1); }
    listen(serv_sock, 5);
    getsockname(serv_sock, (struct sockaddr*)&addr, &addr_sz);
    fprintf(stderr, "greet_server: listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    clnt_sock=accept(serv_sock, NULL, NULL);
    read_line(clnt_sock, line, sizeof(line));
    printf("Client: %s\n", line);
    /* "Hi. I'm <name>." -> <name> */
    len=strlen(line);
    if(len > 9 && strncmp(line, "Hi. I'm ", 8)==0 && line[len-1]=='.'){
        memcpy(name, line+8, len-9);
        name[len-9]=0;
        snprintf(answer, sizeof(answer), "Hi, %s. I'm Jane\n", name);
    } else
        snprintf(answer, sizeof(answer), "ERROR malformed-greeting: expected \"Hi. I'm <your name>.\"\n");
    write(clnt_sock, answer, strlen(answer));
    read_line(clnt_sock, line, sizeof(line));
    printf("Client: %s\n", line);
    close(clnt_sock);
    close(serv_sock);
    return 0;
}
