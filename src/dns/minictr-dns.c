// minictr-dns: the embedded DNS of minictr's user-defined networks (Docker's 127.0.0.11, which
// minictr redirects to the network's gateway). One process for a state root's networks, started
// by minictr when a network gets its first container and stopped with the last one.
//
//   minictr-dns --config DIR [--port 53]
//
// DIR holds one file per network, in aardvark-dns's format (network/dns.ts writes it):
//   GATEWAY[ UPSTREAM,UPSTREAM…]
//   ID IPV4[,IPV4…] IPV6S NAME[,NAME…][ SERVER,SERVER…]
// It answers A (and PTR) queries for the names of the asker's networks — the networks whose
// file lists the asker's id — and forwards other questions to the asker's --dns servers or the
// network's upstream servers. Anyone else (no entry with its address) is refused.
//
// Why not aardvark-dns: it closes its sockets to reload (SIGHUP) and must be restarted for a new
// file, so every container start dropped the questions asked meanwhile (ICMP port unreachable),
// and it signals ready before it binds. Here SIGHUP re-reads DIR and swaps the tables while the
// sockets stay open: a gateway's socket is closed only when its network's file is gone. The
// parent returns only once every socket is bound.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 8
#define MAX_PENDING 1024
#define MAX_ASKER_NETS 64
#define MAX_MSG 4096
#define FORWARD_TIMEOUT_MS 1500
#define TTL 600
#define PID_FILE "resolver.pid"

struct member {
  char *id;
  uint32_t *ips; // network order
  int nips;
  char **names;  // lower case, no trailing dot
  int nnames;
  uint32_t servers[MAX_SERVERS];
  int nservers;
};

struct net {
  char *file;
  uint32_t gateway;
  uint32_t upstream[MAX_SERVERS];
  int nupstream;
  struct member *members;
  int nmembers;
  int fd; // the gateway's socket, -1 when it could not be bound
};

struct pending {
  int used;
  uint16_t id;      // the id sent upstream
  uint16_t client_id;
  int fd;           // the gateway socket the question came in on
  struct sockaddr_in client;
  uint32_t servers[MAX_SERVERS];
  int nservers, next;
  long long deadline;
  unsigned char msg[MAX_MSG];
  size_t len;
};

static const char *config_dir;
static int port = 53;
static struct net *nets;
static int nnets;
static int forward_fd = -1;
static struct pending pending[MAX_PENDING];
static int signal_pipe[2];

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig) {
  unsigned char c = (unsigned char)sig;
  int saved = errno;
  (void)!write(signal_pipe[1], &c, 1);
  errno = saved;
}

// ---- configuration

static void free_net(struct net *net) {
  for (int j = 0; j < net->nmembers; j++) {
    struct member *m = &net->members[j];
    free(m->id);
    free(m->ips);
    for (int k = 0; k < m->nnames; k++) free(m->names[k]);
    free(m->names);
  }
  free(net->members);
  free(net->file);
}

static void free_nets(struct net *list, int n) {
  for (int i = 0; i < n; i++) free_net(&list[i]);
  free(list);
}

// Split `s` at `sep` in place, keeping empty fields (aardvark's format has an empty IPv6 column).
static int split(char *s, char sep, char **out, int max) {
  int n = 0;
  for (;;) {
    if (n < max) out[n] = s;
    n++;
    char *p = strchr(s, sep);
    if (!p) break;
    *p = '\0';
    s = p + 1;
  }
  return n < max ? n : max;
}

static int parse_servers(char *list, uint32_t *out) {
  char *parts[MAX_SERVERS * 4];
  int n = split(list, ',', parts, MAX_SERVERS * 4), count = 0;
  for (int i = 0; i < n && count < MAX_SERVERS; i++) {
    struct in_addr a;
    // IPv6 servers are skipped: the resolver forwards over IPv4.
    if (inet_pton(AF_INET, parts[i], &a) == 1) out[count++] = a.s_addr;
  }
  return count;
}

static void lower(char *s) {
  for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static int parse_member(char *line, struct member *m) {
  char *cols[5];
  int n = split(line, ' ', cols, 5);
  if (n < 4 || cols[0][0] == '\0') return -1;
  memset(m, 0, sizeof *m);
  m->id = strdup(cols[0]);
  char *ips[64];
  int nips = cols[1][0] ? split(cols[1], ',', ips, 64) : 0;
  m->ips = calloc((size_t)(nips > 0 ? nips : 1), sizeof *m->ips);
  for (int i = 0; i < nips; i++) {
    struct in_addr a;
    if (inet_pton(AF_INET, ips[i], &a) == 1) m->ips[m->nips++] = a.s_addr;
  }
  int cap = 1;
  for (char *p = cols[3]; *p; p++) cap += *p == ',';
  m->names = calloc((size_t)cap, sizeof *m->names);
  char *names[cap];
  int nnames = cols[3][0] ? split(cols[3], ',', names, cap) : 0;
  for (int i = 0; i < nnames; i++) {
    if (!names[i][0]) continue;
    m->names[m->nnames] = strdup(names[i]);
    lower(m->names[m->nnames]);
    m->nnames++;
  }
  if (n >= 5 && cols[4][0]) m->nservers = parse_servers(cols[4], m->servers);
  return 0;
}

static int load_file(const char *name, struct net *net) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", config_dir, name);
  memset(net, 0, sizeof *net);
  net->fd = -1;
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  net->file = strdup(name);
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int first = 1, ok = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (first) {
      first = 0;
      char *cols[2];
      int n = split(line, ' ', cols, 2);
      char *gws[8];
      int ngw = split(cols[0], ',', gws, 8);
      struct in_addr a;
      for (int i = 0; i < ngw && !ok; i++) {
        if (inet_pton(AF_INET, gws[i], &a) == 1) {
          net->gateway = a.s_addr;
          ok = 1;
        }
      }
      if (n == 2) net->nupstream = parse_servers(cols[1], net->upstream);
      continue;
    }
    if (len == 0) continue;
    struct member m;
    if (parse_member(line, &m) != 0) continue;
    struct member *grown = realloc(net->members, sizeof *grown * (size_t)(net->nmembers + 1));
    if (!grown) break;
    net->members = grown;
    net->members[net->nmembers++] = m;
  }
  free(line);
  fclose(f);
  return ok ? 0 : -1;
}

static int bind_gateway(uint32_t gateway, char *err, size_t errlen) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // A bridge that is being re-created must not cost the other networks their resolver.
  setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = gateway };
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &gateway, ip, sizeof ip);
    snprintf(err, errlen, "cannot listen on %s:%d: %s", ip, port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

// Read DIR again; sockets of gateways still configured are kept, new ones bound, others closed.
static int reload(char *err, size_t errlen) {
  DIR *d = opendir(config_dir);
  if (!d) {
    snprintf(err, errlen, "cannot read %s: %s", config_dir, strerror(errno));
    return -1;
  }
  struct net *fresh = NULL;
  int nfresh = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, PID_FILE) == 0) continue;
    size_t l = strlen(e->d_name);
    if (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) continue;
    struct net n;
    if (load_file(e->d_name, &n) != 0) {
      free_net(&n);
      continue;
    }
    struct net *grown = realloc(fresh, sizeof *grown * (size_t)(nfresh + 1));
    if (!grown) break;
    fresh = grown;
    fresh[nfresh++] = n;
  }
  closedir(d);
  err[0] = '\0';
  for (int i = 0; i < nfresh; i++) {
    for (int j = 0; j < nnets; j++) {
      if (nets[j].fd >= 0 && nets[j].gateway == fresh[i].gateway) {
        fresh[i].fd = nets[j].fd;
        nets[j].fd = -1;
        break;
      }
    }
    if (fresh[i].fd < 0) fresh[i].fd = bind_gateway(fresh[i].gateway, err, errlen);
  }
  for (int j = 0; j < nnets; j++) {
    if (nets[j].fd >= 0) close(nets[j].fd);
  }
  // A question being forwarded keeps its socket number: drop those whose socket went.
  for (int p = 0; p < MAX_PENDING; p++) {
    if (!pending[p].used) continue;
    int alive = 0;
    for (int i = 0; i < nfresh; i++) alive |= fresh[i].fd == pending[p].fd;
    if (!alive) pending[p].used = 0;
  }
  free_nets(nets, nnets);
  nets = fresh;
  nnets = nfresh;
  return 0;
}

// ---- DNS messages

struct question {
  char name[256];
  uint16_t type, klass;
  size_t end; // where the question section ends
};

static int parse_question(const unsigned char *msg, size_t len, struct question *q) {
  if (len < 12) return -1;
  if (((msg[4] << 8) | msg[5]) != 1) return -1;
  size_t at = 12, out = 0;
  for (;;) {
    if (at >= len) return -1;
    unsigned l = msg[at++];
    if (l == 0) break;
    if (l > 63 || at + l > len || out + l + 1 >= sizeof q->name) return -1;
    if (out) q->name[out++] = '.';
    for (unsigned i = 0; i < l; i++) q->name[out++] = (char)tolower(msg[at + i]);
    at += l;
  }
  q->name[out] = '\0';
  if (at + 4 > len) return -1;
  q->type = (uint16_t)((msg[at] << 8) | msg[at + 1]);
  q->klass = (uint16_t)((msg[at + 2] << 8) | msg[at + 3]);
  q->end = at + 4;
  return 0;
}

// The header and question of the query, as a response with `rcode`; answers are appended.
static size_t response_head(const unsigned char *query, const struct question *q, unsigned char *out, int rcode) {
  memcpy(out, query, q->end);
  out[2] = (unsigned char)(0x80 | (query[2] & 0x79)); // QR, opcode, RD as asked
  out[3] = (unsigned char)(0x80 | (rcode & 0x0f));    // RA
  out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
  return q->end;
}

static size_t add_answer(unsigned char *out, size_t at, uint16_t type, const void *rdata, uint16_t rdlen) {
  if (at + 12 + rdlen > MAX_MSG) return at;
  unsigned char *p = out + at;
  p[0] = 0xc0; p[1] = 0x0c; // the question's name
  p[2] = (unsigned char)(type >> 8); p[3] = (unsigned char)type;
  p[4] = 0; p[5] = 1; // IN
  p[6] = (TTL >> 24) & 0xff; p[7] = (TTL >> 16) & 0xff; p[8] = (TTL >> 8) & 0xff; p[9] = TTL & 0xff;
  p[10] = (unsigned char)(rdlen >> 8); p[11] = (unsigned char)rdlen;
  memcpy(p + 12, rdata, rdlen);
  uint16_t count = (uint16_t)(((out[6] << 8) | out[7]) + 1);
  out[6] = (unsigned char)(count >> 8); out[7] = (unsigned char)count;
  return at + 12 + rdlen;
}

// "a1" → labels; returns its length, 0 when it does not fit.
static size_t encode_name(const char *name, unsigned char *out, size_t cap) {
  size_t at = 0;
  const char *s = name;
  while (*s) {
    const char *dot = strchr(s, '.');
    size_t l = dot ? (size_t)(dot - s) : strlen(s);
    if (l == 0 || l > 63 || at + l + 2 > cap) return 0;
    out[at++] = (unsigned char)l;
    memcpy(out + at, s, l);
    at += l;
    s += l;
    if (*s == '.') s++;
  }
  if (at + 1 > cap) return 0;
  out[at++] = 0;
  return at;
}

// ---- who asks, and what it may see

static int member_has_ip(const struct member *m, uint32_t ip) {
  for (int i = 0; i < m->nips; i++) if (m->ips[i] == ip) return 1;
  return 0;
}

// The asker's networks: those whose file lists an id that has the asker's address somewhere.
static int asker_networks(uint32_t ip, int *out, const struct member **self) {
  const char *ids[64];
  int nids = 0, n = 0;
  *self = NULL;
  for (int i = 0; i < nnets; i++) {
    for (int j = 0; j < nets[i].nmembers; j++) {
      const struct member *m = &nets[i].members[j];
      if (member_has_ip(m, ip) && nids < 64) {
        ids[nids++] = m->id;
        if (!*self || (*self)->nservers == 0) *self = m;
      }
    }
  }
  for (int i = 0; i < nnets && n < MAX_ASKER_NETS; i++) {
    int in = 0;
    for (int j = 0; j < nets[i].nmembers && !in; j++) {
      for (int k = 0; k < nids && !in; k++) in = strcmp(nets[i].members[j].id, ids[k]) == 0;
    }
    if (in) out[n++] = i;
  }
  return n;
}

static int name_matches(const struct member *m, const char *name) {
  for (int i = 0; i < m->nnames; i++) if (strcmp(m->names[i], name) == 0) return 1;
  return 0;
}

// d.c.b.a.in-addr.arpa → the address, or 0 when it is not one.
static uint32_t ptr_address(const char *name) {
  unsigned b[4];
  char tail[32];
  if (sscanf(name, "%u.%u.%u.%u.%31s", &b[0], &b[1], &b[2], &b[3], tail) != 5) return 0;
  if (strcmp(tail, "in-addr.arpa") != 0 || b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255) return 0;
  uint32_t host = (b[3] << 24) | (b[2] << 16) | (b[1] << 8) | b[0];
  return htonl(host);
}

// ---- forwarding

static void send_to_server(struct pending *p) {
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = p->servers[p->next] };
  p->msg[0] = (unsigned char)(p->id >> 8);
  p->msg[1] = (unsigned char)p->id;
  (void)!sendto(forward_fd, p->msg, p->len, 0, (struct sockaddr *)&to, sizeof to);
  p->deadline = now_ms() + FORWARD_TIMEOUT_MS;
}

static void reply_servfail(struct pending *p) {
  struct question q;
  unsigned char out[MAX_MSG];
  p->msg[0] = (unsigned char)(p->client_id >> 8);
  p->msg[1] = (unsigned char)p->client_id;
  if (parse_question(p->msg, p->len, &q) == 0) {
    size_t len = response_head(p->msg, &q, out, 2);
    (void)!sendto(p->fd, out, len, 0, (struct sockaddr *)&p->client, sizeof p->client);
  }
  p->used = 0;
}

static void forward(int fd, const struct sockaddr_in *client, const unsigned char *msg, size_t len, const uint32_t *servers, int nservers, const struct question *q) {
  unsigned char out[MAX_MSG];
  if (nservers == 0) {
    size_t l = response_head(msg, q, out, 2);
    (void)!sendto(fd, out, l, 0, (const struct sockaddr *)client, sizeof *client);
    return;
  }
  struct pending *slot = NULL;
  for (int i = 0; i < MAX_PENDING && !slot; i++) if (!pending[i].used) slot = &pending[i];
  if (!slot) return; // full: the client asks again
  uint16_t id;
  for (;;) {
    if (getrandom(&id, sizeof id, 0) != sizeof id) id = (uint16_t)rand();
    int clash = 0;
    for (int i = 0; i < MAX_PENDING && !clash; i++) clash = pending[i].used && pending[i].id == id;
    if (!clash) break;
  }
  slot->used = 1;
  slot->id = id;
  slot->client_id = (uint16_t)((msg[0] << 8) | msg[1]);
  slot->fd = fd;
  slot->client = *client;
  slot->nservers = nservers;
  memcpy(slot->servers, servers, sizeof(uint32_t) * (size_t)nservers);
  slot->next = 0;
  memcpy(slot->msg, msg, len);
  slot->len = len;
  send_to_server(slot);
}

static void on_upstream_answer(void) {
  unsigned char msg[MAX_MSG];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom(forward_fd, msg, sizeof msg, 0, (struct sockaddr *)&from, &fl);
  if (n < 12) return;
  uint16_t id = (uint16_t)((msg[0] << 8) | msg[1]);
  for (int i = 0; i < MAX_PENDING; i++) {
    struct pending *p = &pending[i];
    if (!p->used || p->id != id) continue;
    if (from.sin_addr.s_addr != p->servers[p->next] || from.sin_port != htons(53)) return;
    msg[0] = (unsigned char)(p->client_id >> 8);
    msg[1] = (unsigned char)p->client_id;
    (void)!sendto(p->fd, msg, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof p->client);
    p->used = 0;
    return;
  }
}

static void expire(void) {
  long long now = now_ms();
  for (int i = 0; i < MAX_PENDING; i++) {
    struct pending *p = &pending[i];
    if (!p->used || p->deadline > now) continue;
    if (++p->next < p->nservers) send_to_server(p);
    else reply_servfail(p);
  }
}

// ---- answering

static void on_question(int netidx) {
  unsigned char msg[MAX_MSG], out[MAX_MSG];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  int fd = nets[netidx].fd;
  ssize_t n = recvfrom(fd, msg, sizeof msg, 0, (struct sockaddr *)&from, &fl);
  if (n < 12 || (msg[2] & 0x80)) return; // too short, or a response
  struct question q;
  if (parse_question(msg, (size_t)n, &q) != 0) {
    if (n >= 12) {
      memcpy(out, msg, 12);
      out[2] = (unsigned char)(0x80 | (msg[2] & 0x79));
      out[3] = 0x80 | 1; // FORMERR
      memset(out + 4, 0, 8);
      (void)!sendto(fd, out, 12, 0, (struct sockaddr *)&from, fl);
    }
    return;
  }
  int mine[MAX_ASKER_NETS];
  const struct member *self;
  int nmine = asker_networks(from.sin_addr.s_addr, mine, &self);
  if (nmine == 0) {
    size_t l = response_head(msg, &q, out, 5); // REFUSED: not a container of these networks
    (void)!sendto(fd, out, l, 0, (struct sockaddr *)&from, fl);
    return;
  }
  size_t len = response_head(msg, &q, out, 0);
  int known = 0;
  if (q.type == 12) {
    uint32_t ip = ptr_address(q.name);
    for (int i = 0; ip && i < nmine && !known; i++) {
      const struct net *net = &nets[mine[i]];
      for (int j = 0; j < net->nmembers && !known; j++) {
        const struct member *m = &net->members[j];
        if (!member_has_ip(m, ip) || m->nnames == 0) continue;
        unsigned char name[256];
        size_t nl = encode_name(m->names[0], name, sizeof name);
        if (nl) len = add_answer(out, len, 12, name, (uint16_t)nl);
        known = 1;
      }
    }
  } else {
    uint32_t seen[64];
    int nseen = 0;
    for (int i = 0; i < nmine; i++) {
      const struct net *net = &nets[mine[i]];
      for (int j = 0; j < net->nmembers; j++) {
        const struct member *m = &net->members[j];
        if (!name_matches(m, q.name)) continue;
        known = 1;
        if (q.type != 1 && q.type != 255) continue;
        for (int k = 0; k < m->nips; k++) {
          int dup = 0;
          for (int s = 0; s < nseen && !dup; s++) dup = seen[s] == m->ips[k];
          if (dup || nseen == 64) continue;
          seen[nseen++] = m->ips[k];
          len = add_answer(out, len, 1, &m->ips[k], 4);
        }
      }
    }
  }
  if (known) {
    out[2] |= 0x04; // authoritative for its containers' names
    (void)!sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
    return;
  }
  const struct net *first = &nets[mine[0]];
  if (self && self->nservers > 0) forward(fd, &from, msg, (size_t)n, self->servers, self->nservers, &q);
  else forward(fd, &from, msg, (size_t)n, first->upstream, first->nupstream, &q);
}

// ---- the process

static void write_pid(void) {
  char path[4096], tmp[4200], text[32];
  snprintf(path, sizeof path, "%s/%s", config_dir, PID_FILE);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  int l = snprintf(text, sizeof text, "%d\n", (int)getpid());
  (void)!write(fd, text, (size_t)l);
  close(fd);
  rename(tmp, path);
}

static void remove_pid(void) {
  char path[4096], text[32] = {0};
  snprintf(path, sizeof path, "%s/%s", config_dir, PID_FILE);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n > 0 && atoi(text) == (int)getpid()) unlink(path);
}

static int serve(void) {
  for (;;) {
    if (nnets == 0) {
      remove_pid();
      return 0;
    }
    struct pollfd fds[2 + 256];
    int map[2 + 256];
    int nfds = 0;
    fds[nfds] = (struct pollfd){ .fd = signal_pipe[0], .events = POLLIN };
    map[nfds++] = -1;
    fds[nfds] = (struct pollfd){ .fd = forward_fd, .events = POLLIN };
    map[nfds++] = -2;
    for (int i = 0; i < nnets && nfds < (int)(sizeof fds / sizeof fds[0]); i++) {
      if (nets[i].fd < 0) continue;
      fds[nfds] = (struct pollfd){ .fd = nets[i].fd, .events = POLLIN };
      map[nfds++] = i;
    }
    long long next = -1, now = now_ms();
    for (int i = 0; i < MAX_PENDING; i++) {
      if (pending[i].used && (next < 0 || pending[i].deadline < next)) next = pending[i].deadline;
    }
    int timeout = next < 0 ? -1 : (int)(next > now ? next - now : 0);
    int ready = poll(fds, (nfds_t)nfds, timeout);
    if (ready < 0 && errno != EINTR) return 1;
    expire();
    if (ready <= 0) continue;
    int reloaded = 0;
    for (int i = 0; i < nfds && !reloaded; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      if (map[i] == -1) {
        unsigned char sig[16];
        ssize_t got = read(signal_pipe[0], sig, sizeof sig);
        for (ssize_t k = 0; k < got; k++) {
          if (sig[k] == SIGTERM || sig[k] == SIGINT) {
            remove_pid();
            return 0;
          }
        }
        char err[256];
        reload(err, sizeof err);
        reloaded = 1; // the socket table changed: poll again
      } else if (map[i] == -2) {
        on_upstream_answer();
      } else {
        on_question(map[i]);
      }
    }
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_dir = argv[++i];
    else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: minictr-dns --config DIR [--port 53]\n");
      return 2;
    }
  }
  if (!config_dir || port <= 0 || port > 65535) {
    fprintf(stderr, "usage: minictr-dns --config DIR [--port 53]\n");
    return 2;
  }
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    perror("minictr-dns: pipe");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("minictr-dns: fork");
    return 1;
  }
  if (child > 0) {
    // The caller goes on only once every gateway is bound (or hears why not).
    close(ready[1]);
    char msg[512];
    ssize_t n = read(ready[0], msg, sizeof msg - 1);
    if (n > 0 && msg[0] == '+') return 0;
    if (n > 0) {
      msg[n] = '\0';
      fprintf(stderr, "minictr-dns: %s\n", msg);
    } else {
      fprintf(stderr, "minictr-dns: the resolver exited before it was ready\n");
    }
    return 1;
  }
  close(ready[0]);
  setsid();
  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  char err[256];
  forward_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (forward_fd < 0 || reload(err, sizeof err) != 0 || err[0]) {
    if (forward_fd < 0) snprintf(err, sizeof err, "socket: %s", strerror(errno));
    (void)!write(ready[1], err, strlen(err));
    return 1;
  }
  write_pid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  (void)!write(ready[1], "+", 1);
  close(ready[1]);
  return serve();
}
