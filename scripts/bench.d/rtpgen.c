// Copied from shared/bench/rtpgen.c; adds silent_streams (streams that received nothing in
// the window) and skips RTCP packets (a peer's RTCP to port+1 must not count as RTP).
// rtpgen: for each line "lport dst_port" in a file, bind 127.0.0.1:lport, send 20ms PCMU RTP (pt 0, 160B)
// to 127.0.0.1:dst_port every 20 ms, receive everything on all sockets, count rx packets and seq gaps per socket.
// usage: rtpgen FILE DURATION_S [STATS_FROM_S]  -> prints totals: tx, rx, lost(seq gaps), for rx window after STATS_FROM_S
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
typedef struct { int fd; struct sockaddr_in dst; unsigned short seq; unsigned ts; unsigned ssrc;
  long rx, rxw, gaps; int have; unsigned short lastseq; } st_t;
static double now(){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec/1e9; }
int main(int argc,char**argv){
  FILE*f=fopen(argv[1],"r"); double dur=atof(argv[2]); double from=argc>3?atof(argv[3]):0, to=argc>4?atof(argv[4]):1e9;
  st_t*s=calloc(4096,sizeof(st_t)); int n=0, lp, dp;
  int ep=epoll_create1(0);
  while(fscanf(f,"%d %d",&lp,&dp)==2){
    st_t*x=&s[n]; x->fd=socket(AF_INET,SOCK_DGRAM|SOCK_NONBLOCK,0);
    int rb=1<<20; setsockopt(x->fd,SOL_SOCKET,SO_RCVBUF,&rb,sizeof rb);
    struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_addr.s_addr=htonl(0x7f000001); a.sin_port=htons(lp);
    if(bind(x->fd,(void*)&a,sizeof a)){perror("bind");return 1;}
    x->dst=a; x->dst.sin_port=htons(dp); if(!dp) x->dst.sin_port=0; x->ssrc=0x1000+n; x->seq=rand();
    struct epoll_event ev={.events=EPOLLIN,.data.u32=n}; epoll_ctl(ep,EPOLL_CTL_ADD,x->fd,&ev); n++;
  }
  int tf=timerfd_create(CLOCK_MONOTONIC,0); struct itimerspec its={{0,20000000},{0,20000000}}; timerfd_settime(tf,0,&its,0);
  struct epoll_event ev={.events=EPOLLIN,.data.u32=0xffffffff}; epoll_ctl(ep,EPOLL_CTL_ADD,tf,&ev);
  unsigned char pkt[172]; memset(pkt+12,0xff,160); long tx=0, txw=0; double t0=now();
  unsigned char buf[2048]; struct epoll_event evs[256];
  while(now()-t0<dur){
    int k=epoll_wait(ep,evs,256,100);
    double el=now()-t0; int inwin = el>=from && el<to;
    for(int i=0;i<k;i++){
      if(evs[i].data.u32==0xffffffff){ unsigned long long e; read(tf,&e,8);
        for(int j=0;j<n;j++){ st_t*x=&s[j]; if(!x->dst.sin_port) continue; pkt[0]=0x80; pkt[1]=0; *(unsigned short*)(pkt+2)=htons(x->seq++);
          *(unsigned*)(pkt+4)=htonl(x->ts); x->ts+=160; *(unsigned*)(pkt+8)=htonl(x->ssrc);
          for(int q=0;q<160;q++) pkt[12+q]=(unsigned char)(0x80 ^ ((x->ts+q)&0x1f));
          if(sendto(x->fd,pkt,172,0,(void*)&x->dst,sizeof x->dst)==172){tx++; if(inwin) txw++;} }
      } else { st_t*x=&s[evs[i].data.u32];
        for(;;){ int r=recv(x->fd,buf,sizeof buf,0); if(r<0) break; if(r<12 || (buf[1]>=200 && buf[1]<=204)) continue; /* skip RTCP */
          unsigned short sq=ntohs(*(unsigned short*)(buf+2)); x->rx++;
          if(inwin){ x->rxw++; if(x->have){ short d=(short)(sq-x->lastseq); if(d>1) x->gaps+=d-1; } }
          x->have=1; x->lastseq=sq; }
      }
    }
  }
  long rx=0,rxw=0,g=0; int silent=0; for(int j=0;j<n;j++){rx+=s[j].rx; rxw+=s[j].rxw; g+=s[j].gaps; if(!s[j].rxw) silent++;}
  printf("{\"streams\":%d,\"silent_streams\":%d,\"tx\":%ld,\"rx\":%ld,\"tx_window\":%ld,\"rx_window\":%ld,\"seq_gaps_window\":%ld,\"loss_pct_window\":%.4f}\n",n,silent,tx,rx,txw,rxw,g, rxw+g? 100.0*g/(rxw+g):0);
  return 0;
}
