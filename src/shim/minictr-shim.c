// minictr-shim: holds one container's stdin, stdout and stderr (or its pseudo-terminal) for the
// container's whole life, as conmon does for podman and containerd's shim for Docker. It writes
// every line into the container's log in Docker's json-file format, and relays the streams to
// any number of clients on a unix socket (`run` in the foreground, `attach`).
//
// Why C and not Node: Node cannot unlock a pseudo-terminal (TIOCSPTLCK) or set its window size,
// and a Node process per container would cost ~40 MB and ~40 ms; this costs ~1 MB and ~1 ms.
//
// Usage: minictr-shim --socket PATH [--log PATH --max-size N --max-file N] [--tty] [--stdin]
//                     [--wait-attach] [--ready-fd N] [--pty-of PID] -- COMMAND...
// --pty-of PID (exec -t): the terminal is made in the devpts of the running container PID before
// COMMAND starts, and given to it as stdin, stdout and stderr.
// It exits with COMMAND's status (128+N for a signal), as a shell's $? would be.
//
// Frames, both ways on the socket: 8 bytes [type, 0, 0, 0, length (u32, big-endian)], then the
// payload (Docker's stdcopy header). To clients: 1 stdout, 2 stderr, 3 exit (payload: status).
// From clients: 0 stdin data, 4 resize (rows u16, cols u16), 5 stdin closed, 6 follow the log.
// A log follower (`logs -f`) gets, instead of the streams, 7 the log's position when it asked
// ("inode size": what the files hold before this point), then 8 each entry as written: nothing
// is lost to rotation, however fast the log turns over.
//
// With --tty the pseudo-terminal is made in the container's own devpts instance, so the
// container sees /dev/pts/0: the command writes its host pid to fd 3 once its /dev/pts is
// mounted; the shim opens /proc/PID/root/dev/pts/ptmx, unlocks it, and answers the pts number
// on fd 4.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { T_STDIN = 0, T_STDOUT = 1, T_STDERR = 2, T_EXIT = 3, T_RESIZE = 4, T_CLOSE_STDIN = 5, T_FOLLOW = 6, T_POSITION = 7, T_ENTRY = 8 };
enum { MAX_CLIENTS = 64, MAX_PAYLOAD = 1 << 16, CLIENT_HIGH_WATER = 1 << 20, LINE_MAX_BYTES = 16 * 1024 };

typedef struct { char *data; size_t len, cap; } buf_t;

static void buf_add(buf_t *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) { perror("minictr-shim: out of memory"); exit(125); }
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

static void buf_drop(buf_t *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

// eof: the client has sent all it will (it may still read, as `echo x | socat` does).
typedef struct { int fd, eof, follow; buf_t out, in; } client_t;

static struct {
  const char *socket_path, *log_path;
  long long max_size;
  int max_file, tty, keep_stdin, wait_attach, ready_fd;
  long pty_of;
  char **argv;
} opt = { .max_file = 1, .ready_fd = -1 };

static client_t clients[MAX_CLIENTS];
static int nclients;
static int listen_fd = -1, sig_fd = -1;
static int out_fd = -1, err_fd = -1;  // the container's stdout/stderr (out_fd: the pty master with --tty)
static int in_fd = -1;                // where stdin goes (a pipe, or the pty master)
static int hs_fd = -1, go_fd = -1;    // the --tty handshake
static buf_t to_stdin;
static pid_t child = -1;
static int child_status = -1;
static unsigned short pending_rows, pending_cols;

// ---- the json-file log --------------------------------------------------------------------

static void frame(buf_t *b, int type, const void *data, size_t len);

static void follow_entry(const char *entry, size_t len) {
  for (int i = 0; i < nclients; i++) if (clients[i].follow) frame(&clients[i].out, T_ENTRY, entry, len);
}

static int log_fd = -1;
static long long log_size;
static buf_t line[3];  // per stream, a line not yet ended

static void log_open(void) {
  log_fd = open(opt.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd < 0) { fprintf(stderr, "minictr-shim: cannot open %s: %s\n", opt.log_path, strerror(errno)); return; }
  struct stat st;
  log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
}

// Docker's rotation: the oldest goes, each file moves up one, the log becomes .1. With one file
// the log is replaced, not truncated: a `logs -f` reading it keeps its descriptor and loses nothing.
static void log_rotate(void) {
  size_t n = strlen(opt.log_path) + 16;
  char from[n], to[n];
  if (opt.max_file <= 1) {
    unlink(opt.log_path);
  } else {
    for (int i = opt.max_file - 1; i >= 1; i--) {
      snprintf(to, n, "%s.%d", opt.log_path, i);
      if (i == 1) snprintf(from, n, "%s", opt.log_path);
      else snprintf(from, n, "%s.%d", opt.log_path, i - 1);
      rename(from, to);
    }
  }
  close(log_fd);
  log_open();
}

// RFC 3339 with nanoseconds, trailing zeros dropped (Go's RFC3339Nano).
static void rfc3339nano(char *out, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t at = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts.tv_nsec) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    size_t len = strlen(frac);
    while (frac[len - 1] == '0') frac[--len] = 0;
    at += snprintf(out + at, n - at, "%s", frac);
  }
  snprintf(out + at, n - at, "Z");
}

// One entry as Docker writes it, with Go's escaping (<, > and & as \u00XX too).
static void log_entry(int stream, const char *data, size_t len) {
  if (log_fd < 0) return;
  buf_t e = {0};
  static const char hex[] = "0123456789abcdef";
  buf_add(&e, "{\"log\":\"", 8);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)data[i];
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    if (c == '"' || c == '\\') { char two[2] = {'\\', (char)c}; buf_add(&e, two, 2); }
    else if (c == '\n') buf_add(&e, "\\n", 2);
    else if (c == '\r') buf_add(&e, "\\r", 2);
    else if (c == '\t') buf_add(&e, "\\t", 2);
    else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) buf_add(&e, esc, 6);
    else buf_add(&e, &data[i], 1);
  }
  char when[48];
  rfc3339nano(when, sizeof when);
  char tail[96];
  int t = snprintf(tail, sizeof tail, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream == T_STDERR ? "stderr" : "stdout", when);
  buf_add(&e, tail, (size_t)t);
  if (opt.max_size > 0 && log_size > 0 && log_size + (long long)e.len > opt.max_size) log_rotate();
  if (log_fd >= 0) {
    size_t done = 0;
    while (done < e.len) {
      ssize_t w = write(log_fd, e.data + done, e.len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += (size_t)w;
    }
    log_size += (long long)done;
  }
  follow_entry(e.data, e.len);
  free(e.data);
}

// Whole lines go to the log as they end; a line longer than 16 KiB goes in pieces, as Docker's.
static void log_output(int stream, const char *data, size_t len) {
  buf_t *b = &line[stream];
  buf_add(b, data, len);
  size_t start = 0;
  for (size_t i = 0; i < b->len; i++) {
    if (b->data[i] == '\n' || i + 1 - start >= LINE_MAX_BYTES) {
      log_entry(stream, b->data + start, i + 1 - start);
      start = i + 1;
    }
  }
  buf_drop(b, start);
}

static void log_flush(void) {
  for (int s = T_STDOUT; s <= T_STDERR; s++) {
    if (line[s].len) log_entry(s, line[s].data, line[s].len);
    line[s].len = 0;
  }
}

// ---- clients ------------------------------------------------------------------------------

static void frame(buf_t *b, int type, const void *data, size_t len) {
  unsigned char h[8] = {(unsigned char)type, 0, 0, 0, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  buf_add(b, h, 8);
  buf_add(b, data, len);
}

static void drop_client(int i) {
  close(clients[i].fd);
  free(clients[i].out.data);
  free(clients[i].in.data);
  clients[i] = clients[--nclients];
}

static void broadcast(int type, const char *data, size_t len) {
  for (int i = 0; i < nclients; i++) if (!clients[i].follow || type == T_EXIT) frame(&clients[i].out, type, data, len);
}

static int clients_backed_up(void) {
  for (int i = 0; i < nclients; i++) if (clients[i].out.len > CLIENT_HIGH_WATER) return 1;
  return 0;
}

static void set_winsize(void) {
  if (!opt.tty || out_fd < 0 || !pending_rows || !pending_cols) return;
  struct winsize ws = { .ws_row = pending_rows, .ws_col = pending_cols };
  ioctl(out_fd, TIOCSWINSZ, &ws);
}

static void close_stdin(void) {
  if (opt.tty || in_fd < 0) return;  // a terminal is not closed by one client's end of input
  if (to_stdin.len == 0) { close(in_fd); in_fd = -1; }
  else opt.keep_stdin = 2;  // closed once what is queued is written
}

// Handle the complete frames a client sent.
static void client_frames(client_t *c) {
  while (c->in.len >= 8) {
    unsigned char *h = (unsigned char *)c->in.data;
    size_t len = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
    if (len > MAX_PAYLOAD) { c->in.len = 0; return; }
    if (c->in.len < 8 + len) return;
    const char *p = c->in.data + 8;
    if (h[0] == T_STDIN && in_fd >= 0 && opt.keep_stdin == 1) buf_add(&to_stdin, p, len);
    else if (h[0] == T_RESIZE && len == 4) {
      pending_rows = (unsigned short)(((unsigned char)p[0] << 8) | (unsigned char)p[1]);
      pending_cols = (unsigned short)(((unsigned char)p[2] << 8) | (unsigned char)p[3]);
      set_winsize();
    } else if (h[0] == T_CLOSE_STDIN) close_stdin();
    else if (h[0] == T_FOLLOW && !c->follow) {
      struct stat st;
      char position[64];
      int n = snprintf(position, sizeof position, "%llu %lld", log_fd >= 0 && fstat(log_fd, &st) == 0 ? (unsigned long long)st.st_ino : 0ULL, log_size);
      c->follow = 1;
      frame(&c->out, T_POSITION, position, (size_t)n);
    }
    buf_drop(&c->in, 8 + len);
  }
}

// ---- the container ------------------------------------------------------------------------

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Start COMMAND with `fds` as its descriptors 0..4 (-1: none), signals as a new process has them.
static void fork_command(const int fds[5]) {
  child = fork();
  if (child < 0) { perror("minictr-shim: fork"); exit(125); }
  if (child > 0) return;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  // Out of the way first, so no source is overwritten by an earlier target.
  int high[5];
  for (int fd = 0; fd < 5; fd++) high[fd] = fds[fd] >= 0 ? fcntl(fds[fd], F_DUPFD_CLOEXEC, 10) : -1;
  for (int fd = 0; fd < 5; fd++) if (high[fd] >= 0) dup2(high[fd], fd);
  execvp(opt.argv[0], opt.argv);
  fprintf(stderr, "minictr-shim: cannot run %s: %s\n", opt.argv[0], strerror(errno));
  _exit(127);
}

// exec -t: a terminal of the running container's devpts, made before the command starts.
static void start_child_on_pty(void) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%ld/root/dev/pts/ptmx", opt.pty_of);
  int master = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0;
  unsigned int number = 0;
  if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &number) < 0) {
    fprintf(stderr, "minictr-shim: cannot make a terminal in the container (%s): %s\n", path, strerror(errno));
    exit(125);
  }
  snprintf(path, sizeof path, "/proc/%ld/root/dev/pts/%u", opt.pty_of, number);
  int slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) { fprintf(stderr, "minictr-shim: cannot open %s: %s\n", path, strerror(errno)); exit(125); }
  out_fd = master;
  set_winsize();
  fork_command((const int[5]){slave, slave, slave, -1, -1});
  close(slave);
  in_fd = dup(master);
  fcntl(in_fd, F_SETFD, FD_CLOEXEC);
  nonblock(out_fd);
  nonblock(in_fd);
}

static void start_child(void) {
  if (opt.pty_of > 0) { start_child_on_pty(); return; }
  int out[2] = {-1, -1}, err[2], in[2] = {-1, -1}, hs[2] = {-1, -1}, go[2] = {-1, -1};
  if (pipe2(err, O_CLOEXEC) < 0) { perror("minictr-shim: pipe"); exit(125); }
  if (opt.tty) {
    if (pipe2(hs, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) { perror("minictr-shim: pipe"); exit(125); }
  } else {
    if (pipe2(out, O_CLOEXEC) < 0) { perror("minictr-shim: pipe"); exit(125); }
    if (opt.keep_stdin && pipe2(in, O_CLOEXEC) < 0) { perror("minictr-shim: pipe"); exit(125); }
  }
  int null = in[0] >= 0 ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Until the terminal exists, what the container's setup says goes to stderr (and the log).
  fork_command((const int[5]){in[0] >= 0 ? in[0] : null, out[1] >= 0 ? out[1] : err[1], err[1], hs[1], go[0]});
  if (null >= 0) close(null);
  close(err[1]);
  err_fd = err[0];
  nonblock(err_fd);
  if (opt.tty) {
    close(hs[1]); close(go[0]);
    hs_fd = hs[0];
    go_fd = go[1];
  } else {
    close(out[1]);
    out_fd = out[0];
    nonblock(out_fd);
    if (in[0] >= 0) { close(in[0]); in_fd = in[1]; nonblock(in_fd); }
  }
}

// The container's /dev/pts is mounted: make its pts 0 and tell the container which it is.
static void open_terminal(void) {
  char text[32] = {0};
  ssize_t n = read(hs_fd, text, sizeof text - 1);
  close(hs_fd);
  hs_fd = -1;
  long pid = n > 0 ? strtol(text, NULL, 10) : 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/root/dev/pts/ptmx", pid);
  int master = pid > 0 ? open(path, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
  int unlock = 0;
  unsigned int number = 0;
  char answer[32] = "!\n";
  if (master >= 0 && ioctl(master, TIOCSPTLCK, &unlock) == 0 && ioctl(master, TIOCGPTN, &number) == 0) {
    snprintf(answer, sizeof answer, "%u\n", number);
    out_fd = master;
    in_fd = dup(master);
    fcntl(in_fd, F_SETFD, FD_CLOEXEC);
    nonblock(out_fd);
    nonblock(in_fd);
    set_winsize();
  } else {
    fprintf(stderr, "minictr-shim: cannot make the container's terminal (%s): %s\n", path, strerror(errno));
    if (master >= 0) close(master);
  }
  if (write(go_fd, answer, strlen(answer)) < 0) { /* the container is gone: its exit is seen below */ }
  close(go_fd);
  go_fd = -1;
}

// Read what the container wrote on one stream; 0 at its end.
static int pump(int *fd, int stream) {
  char data[65536];
  ssize_t n = read(*fd, data, sizeof data);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  if (n <= 0) {  // EOF, or EIO: the terminal's last holder is gone
    close(*fd);
    *fd = -1;
    if (opt.tty && in_fd >= 0) { close(in_fd); in_fd = -1; }
    return 0;
  }
  log_output(stream, data, (size_t)n);
  broadcast(stream, data, (size_t)n);
  return 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reap(void) {
  struct signalfd_siginfo info;
  while (read(sig_fd, &info, sizeof info) > 0) {}
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == child) child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

static void accept_client(void) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  if (nclients == MAX_CLIENTS) { close(fd); return; }
  clients[nclients++] = (client_t){ .fd = fd };
  if (child < 0) start_child();
}

static void write_clients(void) {
  for (int i = 0; i < nclients; i++) {
    client_t *c = &clients[i];
    if (!c->out.len) continue;
    ssize_t w = write(c->fd, c->out.data, c->out.len);
    if (w > 0) buf_drop(&c->out, (size_t)w);
    else if (w < 0 && errno != EAGAIN && errno != EINTR) { drop_client(i); i--; }
  }
}

static void write_stdin(void) {
  ssize_t w = write(in_fd, to_stdin.data, to_stdin.len);
  if (w > 0) buf_drop(&to_stdin, (size_t)w);
  else if (w < 0 && errno != EAGAIN && errno != EINTR) { to_stdin.len = 0; close(in_fd); in_fd = -1; }
  if (in_fd >= 0 && to_stdin.len == 0 && opt.keep_stdin == 2) { close(in_fd); in_fd = -1; }
}

// The path is reached through a descriptor of its directory: a state root deep in the file
// system would make it longer than a socket address holds (108 bytes), as podman's conmon does.
static int listen_on(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const char *slash = strrchr(path, '/');
  char dir[4096];
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
  int dir_fd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir_fd, slash ? slash + 1 : path);
  unlink(path);
  if (fd < 0 || dir_fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
    fprintf(stderr, "minictr-shim: cannot listen on %s: %s\n", path, strerror(errno));
    exit(125);
  }
  close(dir_fd);
  chmod(path, 0600);
  return fd;
}

static void parse_args(int argc, char **argv) {
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (!strcmp(a, "--tty")) opt.tty = 1;
    else if (!strcmp(a, "--stdin")) opt.keep_stdin = 1;
    else if (!strcmp(a, "--wait-attach")) opt.wait_attach = 1;
    else if (i + 1 < argc && !strcmp(a, "--socket")) opt.socket_path = argv[++i];
    else if (i + 1 < argc && !strcmp(a, "--log")) opt.log_path = argv[++i];
    else if (i + 1 < argc && !strcmp(a, "--max-size")) opt.max_size = atoll(argv[++i]);
    else if (i + 1 < argc && !strcmp(a, "--max-file")) opt.max_file = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(a, "--ready-fd")) opt.ready_fd = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(a, "--pty-of")) { opt.pty_of = atol(argv[++i]); opt.tty = 1; }
    else { fprintf(stderr, "minictr-shim: unknown argument %s\n", a); exit(125); }
  }
  if (i >= argc || !opt.socket_path) { fprintf(stderr, "usage: minictr-shim --socket PATH [options] -- COMMAND...\n"); exit(125); }
  opt.argv = argv + i;
}

// minictr-shim --guard-tty: keeps the caller's terminal settings (fd 3) while minictr has it raw,
// and puts them back the moment its stdin (a pipe from minictr) closes without a word: minictr
// was killed. No fork or exec on the way, so the terminal is cooked again before the user's shell,
// woken by the same death, reads its settings.
static int guard_tty(void) {
  struct termios saved;
  if (tcgetattr(3, &saved) < 0) return 0;
  if (write(1, "saved\n", 6) < 0) return 0;
  close(1);
  char c;
  ssize_t n;
  while ((n = read(0, &c, 1)) < 0 && errno == EINTR) {}
  if (n <= 0) tcsetattr(3, TCSANOW, &saved);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--guard-tty")) {
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    return guard_tty();
  }
  parse_args(argc, argv);
  // Signals for the container reach it directly; the shim must outlive them all but SIGKILL.
  int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGWINCH, SIGTTIN, SIGTTOU};
  for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++) signal(ignored[i], SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (opt.log_path && *opt.log_path) log_open();
  listen_fd = listen_on(opt.socket_path);
  if (opt.ready_fd >= 0) {
    if (write(opt.ready_fd, "ready\n", 6) < 0) { /* nobody waits for it any more */ }
    close(opt.ready_fd);
  }
  if (!opt.wait_attach) start_child();

  long long give_up_at = 0;  // once the command has exited: when to stop waiting for the pipes' ends
  for (;;) {
    int outputs_open = out_fd >= 0 || err_fd >= 0;
    if (child_status >= 0 && !outputs_open) break;
    struct pollfd p[MAX_CLIENTS + 8];
    int n = 0, backed_up = clients_backed_up();
    p[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
    p[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
    p[n++] = (struct pollfd){ .fd = hs_fd, .events = POLLIN };
    p[n++] = (struct pollfd){ .fd = backed_up ? -1 : out_fd, .events = POLLIN };
    p[n++] = (struct pollfd){ .fd = backed_up ? -1 : err_fd, .events = POLLIN };
    p[n++] = (struct pollfd){ .fd = to_stdin.len ? in_fd : -1, .events = POLLOUT };
    int base = n;
    for (int i = 0; i < nclients; i++) {
      short events = (clients[i].out.len ? POLLOUT : 0) | (to_stdin.len < CLIENT_HIGH_WATER && !clients[i].eof ? POLLIN : 0);
      p[n++] = (struct pollfd){ .fd = clients[i].fd, .events = events };
    }
    // Once the command has exited, what is left in the pipes is read; then the shim ends, even if
    // something that escaped the container still holds a pipe.
    int timeout = -1;
    if (give_up_at) {
      timeout = (int)(give_up_at - now_ms());
      if (timeout <= 0) break;
    }
    int ready = poll(p, (nfds_t)n, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (p[1].revents) {
      reap();
      if (child_status >= 0 && !give_up_at) give_up_at = now_ms() + 2000;
    }
    if (p[2].revents) open_terminal();
    if (p[3].revents) pump(&out_fd, T_STDOUT);
    if (p[4].revents) pump(&err_fd, T_STDERR);
    if (p[5].revents && in_fd >= 0) write_stdin();
    // Clients: read input, write output; a client that hung up goes.
    for (int i = nclients - 1; i >= 0; i--) {
      short re = p[base + i].revents;
      if (!re) continue;
      if (re & POLLIN) {
        char data[65536];
        ssize_t r = read(clients[i].fd, data, sizeof data);
        if (r > 0) { buf_add(&clients[i].in, data, (size_t)r); client_frames(&clients[i]); }
        else if (r == 0) clients[i].eof = 1;
        else if (errno != EAGAIN && errno != EINTR) { drop_client(i); continue; }
      } else if (re & (POLLHUP | POLLERR)) { drop_client(i); continue; }
    }
    write_clients();
    if (p[0].revents) accept_client();
  }

  // The end: the last partial lines, then the status to every client, written out within a second.
  log_flush();
  char status[16];
  int len = snprintf(status, sizeof status, "%d", child_status < 0 ? 125 : child_status);
  broadcast(T_EXIT, status, (size_t)len);
  for (int tries = 0; tries < 50 && nclients; tries++) {
    write_clients();
    int pending = 0;
    for (int i = 0; i < nclients; i++) pending |= clients[i].out.len != 0;
    if (!pending) break;
    poll(NULL, 0, 20);
  }
  unlink(opt.socket_path);
  return child_status < 0 ? 125 : child_status;
}
