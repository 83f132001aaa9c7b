/* The textbook's iterative echo server (chapter 4), for one client per argv count: reads and
 * writes back until the client closes. Interop peer for our echo client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#define BUF_SIZE 1024
void error_handling(char *message);

int main(int argc, char *argv[])
{
    int serv_sock, clnt_sock;
    char message[BUF_SIZE];
    int str_len, i, clients;
    struct sockaddr_in serv_adr, clnt_adr;
    socklen_t clnt_adr_sz, serv_adr_sz;

    if(argc!=3){
        printf("Usage : %s <port> <clients>\n", argv[0]);
        exit(1);
    }
    clients=atoi(argv[2]);
    serv_sock=socket(PF_INET, SOCK_STREAM, 0);
    if(serv_sock==-1)
        error_handling("socket() error");

    memset(&serv_adr, 0, sizeof(serv_adr));
    serv_adr.sin_family=AF_INET;
    serv_adr.sin_addr.s_addr=inet_addr("127.0.0.1");
    serv_adr.sin_port=htons(atoi(argv[1]));

    if(bind(serv_sock, (struct sockaddr*)&serv_adr, sizeof(serv_adr))==-1)
        error_handling("bind() error");
    if(listen(serv_sock, 5)==-1)
        error_handling("listen() error");
    /* Port 0: report the port the system chose, as our servers do. */
    serv_adr_sz=sizeof(serv_adr);
    getsockname(serv_sock, (struct sockaddr*)&serv_adr, &serv_adr_sz);
    fprintf(stderr, "echo_server: listening on 127.0.0.1:%d\n", ntohs(serv_adr.sin_port));

    clnt_adr_sz=sizeof(clnt_adr);
    for(i=0; i<clients; i++)
    {
        clnt_sock=accept(serv_sock, (struct sockaddr*)&clnt_adr, &clnt_adr_sz);
        if(clnt_sock==-1)
            error_handling("accept() error");
        while((str_len=read(clnt_sock, message, BUF_SIZE))>0)
            write(clnt_sock, message, str_len);
        close(clnt_sock);
    }
    close(serv_sock);
    return 0;
}

void error_handling(char *message)
{
    fputs(message, stderr);
    fputc('\n', stderr);
    exit(1);
}
