/* Bad input at the C boundary: calls every one of the 172 functions libgearman.so.8 exports with
 * NULL pointers, with zeroed shells (gearman_client_st / gearman_worker_st / gearman_job_st /
 * gearman_task_st whose _impl is NULL) and, where a function takes them, with over-long function
 * names (> GEARMAN_FUNCTION_MAX_SIZE), uniques (> GEARMAN_MAX_UNIQUE_SIZE - 1), job handles
 * (>= GEARMAN_JOB_HANDLE_SIZE) and a namespace that makes namespace + name exceed 1024 bytes, on a
 * live object that has no servers (so nothing touches the network).
 *
 * Each call runs in a forked child, so a crash is reported instead of ending the run. Every case
 * prints exactly one deterministic line "function(case): result"; a child killed by a signal is
 * printed as "function(case): SIGSEGV" (SIGALRM after 10 s: "hang"). tests/capi_null.rs runs it
 * against our library and Debian's and compares the lines. An argument restricts the run to the
 * functions whose name contains it. */
#include <libgearman-1.0/gearman.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *only; /* optional filter */
static const char *cur_fn, *cur_case;
static int cases, crashes;

/* 513-byte function name, 65-byte unique, 64-byte job handle, 255-byte identifier. */
static char long_name[GEARMAN_FUNCTION_MAX_SIZE + 2];
static char long_unique[GEARMAN_MAX_UNIQUE_SIZE + 2];
static char long_handle[GEARMAN_JOB_HANDLE_SIZE + 1];
static char long_id[256];
/* 1.1.20 builds namespace + function name in a 1024-byte buffer. */
static char long_namespace[2001];
static gearman_job_handle_t small_handle = "H:x:1";

static const char *signal_name(int sig)
{
  static char other[32];
  switch (sig)
  {
  case SIGSEGV: return "SIGSEGV";
  case SIGABRT: return "SIGABRT";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGALRM: return "hang";
  default:
    snprintf(other, sizeof other, "signal %d", sig);
    return other;
  }
}

/* Parent: forks; the child returns 1 and runs the case body, the parent waits for it, reports a
 * crash or a missing line, and returns 0. */
static int begin(const char *fn, const char *label)
{
  if (only && !strstr(fn, only))
    return 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
  {
    perror("fork");
    exit(2);
  }
  if (pid == 0)
  {
    cur_fn = fn;
    cur_case = label;
    alarm(10);
    return 1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
    {
      perror("waitpid");
      exit(2);
    }
  cases++;
  if (WIFSIGNALED(status))
  {
    crashes++;
    printf("%s(%s): %s\n", fn, label, signal_name(WTERMSIG(status)));
  }
  else if (WEXITSTATUS(status) != 0)
  {
    crashes++;
    printf("%s(%s): exit %d\n", fn, label, WEXITSTATUS(status));
  }
  return 0;
}

/* Child: the case body printed its line; leave without running atexit handlers. */
static int finish(void)
{
  fflush(stdout);
  _exit(0);
}

/* Runs the following statement in a child. */
#define T(fn, label) for (int once_ = begin(#fn, label); once_; once_ = finish())

static void out(const char *fmt, ...)
{
  va_list ap;
  printf("%s(%s): ", cur_fn, cur_case);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

#define UNTOUCHED ((gearman_return_t)777)

/* A pointer below 64 KiB (never mapped on Linux) is a field address computed from a NULL object (1.1.20 does that for some
 * detached shells): reading it crashes, so it is reported as such. */
static const char *p(const void *x)
{
  if (!x)
    return "NULL";
  return (uintptr_t)x < 65536 ? "bad ptr" : "ptr";
}
static const char *b(bool x) { return x ? "true" : "false"; }
static const char *rc(gearman_return_t r)
{
  static char text[32];
  if (r == UNTOUCHED)
    return "untouched";
  if ((int)r < 0 || r >= GEARMAN_MAX_RETURN)
  {
    snprintf(text, sizeof text, "rc %d", (int)r);
    return text;
  }
  return gearman_strerror(r);
}

static gearman_return_t parse_cb(const char *host, in_port_t port, void *context)
{
  (void)host; (void)port; (void)context;
  return GEARMAN_SUCCESS;
}
static void *worker_fn(gearman_job_st *job, void *context, size_t *size, gearman_return_t *ret)
{
  (void)job; (void)context; (void)size; (void)ret;
  return NULL;
}

static gearman_client_st *live_client(void) { return gearman_client_create(NULL); }
static gearman_worker_st *live_worker(void) { return gearman_worker_create(NULL); }
static gearman_task_st *live_task(gearman_client_st *c)
{
  return gearman_client_add_task(c, NULL, NULL, "f", "u", "w", 1, NULL);
}

typedef gearman_task_st *(*add_task_fn)(gearman_client_st *, gearman_task_st *, void *, const char *,
                                         const char *, const void *, size_t, gearman_return_t *);
typedef void *(*do_fn)(gearman_client_st *, const char *, const char *, const void *, size_t, size_t *,
                       gearman_return_t *);
typedef gearman_return_t (*do_bg_fn)(gearman_client_st *, const char *, const char *, const void *, size_t,
                                     gearman_job_handle_t);

#define ADD_TASK_CASES(fn)                                                                             \
  do                                                                                                   \
  {                                                                                                    \
    add_task_fn f = fn;                                                                                \
    T(fn, "null") out("%s", p(f(NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL)));                        \
    T(fn, "null_client")                                                                               \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      const void *t = f(NULL, NULL, NULL, "f", "u", "w", 1, &r);                                       \
      out("%s %s", p(t), rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "null_client_storage")                                                                       \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      gearman_task_st storage;                                                                         \
      memset(&storage, 0, sizeof storage);                                                             \
      const void *t = f(NULL, &storage, NULL, "f", "u", "w", 1, &r);                                   \
      out("%s %s storage %s", p(t), rc(r), storage._impl ? "attached" : "untouched");                  \
    }                                                                                                  \
    T(fn, "shell")                                                                                     \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      const void *t = f(&zc, NULL, NULL, "f", "u", "w", 1, &r);                                        \
      out("%s %s", p(t), rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "null_args")                                                                                 \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      const void *t = f(live_client(), NULL, NULL, NULL, NULL, NULL, 0, &r);                           \
      out("%s %s", p(t), rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "long_name")                                                                                 \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      const void *t = f(live_client(), NULL, NULL, long_name, "u", "w", 1, &r);                        \
      out("%s %s", p(t), rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "long_unique")                                                                               \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      const void *t = f(live_client(), NULL, NULL, "f", long_unique, "w", 1, &r);                      \
      out("%s %s", p(t), rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "long_namespace")                                                                            \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      gearman_client_st *c = live_client();                                                            \
      gearman_client_set_namespace(c, long_namespace, strlen(long_namespace));                         \
      const void *t = f(c, NULL, NULL, "f", "u", "w", 1, &r);                                          \
      out("%s %s", p(t), rc(r));                                                                       \
    }                                                                                                  \
  } while (0)

#define DO_CASES(fn)                                                                                   \
  do                                                                                                   \
  {                                                                                                    \
    do_fn f = fn;                                                                                      \
    T(fn, "null") out("%s", p(f(NULL, NULL, NULL, NULL, 0, NULL, NULL)));                              \
    T(fn, "null_client")                                                                               \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      size_t size = 99;                                                                                \
      void *x = f(NULL, "f", "u", "w", 1, &size, &r);                                                  \
      out("%s size=%zu %s", p(x), size, rc(r));                                                        \
    }                                                                                                  \
    T(fn, "shell")                                                                                     \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      size_t size = 99;                                                                                \
      void *x = f(&zc, "f", "u", "w", 1, &size, &r);                                                   \
      out("%s size=%zu %s", p(x), size, rc(r));                                                        \
    }                                                                                                  \
    T(fn, "null_args")                                                                                 \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      size_t size = 99;                                                                                \
      void *x = f(live_client(), NULL, NULL, NULL, 0, &size, &r);                                      \
      out("%s size=%zu %s", p(x), size, rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "long_name")                                                                                 \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      size_t size = 99;                                                                                \
      void *x = f(live_client(), long_name, "u", "w", 1, &size, &r);                                   \
      out("%s size=%zu %s", p(x), size, rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "long_unique")                                                                               \
    {                                                                                                  \
      gearman_return_t r = UNTOUCHED;                                                                  \
      size_t size = 99;                                                                                \
      void *x = f(live_client(), "f", long_unique, "w", 1, &size, &r);                                 \
      out("%s size=%zu %s", p(x), size, rc(r));                                                                       \
    }                                                                                                  \
    T(fn, "long_namespace")                                                                        \
    {                                                                                              \
      gearman_return_t r = UNTOUCHED;                                                              \
      gearman_client_st *c = live_client();                                                        \
      gearman_client_set_namespace(c, long_namespace, strlen(long_namespace));                     \
      void *x = f(c, "f", "u", "w", 1, NULL, &r);                                                  \
      out("%s %s", p(x), rc(r));                                                                   \
    }                                                                                              \
  } while (0)

#define DO_BG_CASES(fn)                                                                                \
  do                                                                                                   \
  {                                                                                                    \
    do_bg_fn f = fn;                                                                                   \
    T(fn, "null") out("%s", rc(f(NULL, NULL, NULL, NULL, 0, NULL)));                                   \
    T(fn, "shell")                                                                                     \
    {                                                                                                  \
      gearman_job_handle_t h = "unset";                                                                \
      gearman_return_t r = f(&zc, "f", "u", "w", 1, h);                                                \
      out("%s handle='%s'", rc(r), h);                                                                 \
    }                                                                                                  \
    T(fn, "null_args") out("%s", rc(f(live_client(), NULL, NULL, NULL, 0, NULL)));                     \
    T(fn, "long_name")                                                                                 \
    {                                                                                                  \
      gearman_job_handle_t h = "unset";                                                                \
      gearman_return_t r = f(live_client(), long_name, "u", "w", 1, h);                                \
      out("%s handle='%s'", rc(r), h);                                                                 \
    }                                                                                                  \
    T(fn, "long_unique")                                                                               \
    {                                                                                                  \
      gearman_job_handle_t h = "unset";                                                                \
      gearman_return_t r = f(live_client(), "f", long_unique, "w", 1, h);                              \
      out("%s handle='%s'", rc(r), h);                                                                 \
    }                                                                                                  \
    T(fn, "long_namespace")                                                                        \
    {                                                                                              \
      gearman_client_st *c = live_client();                                                        \
      gearman_client_set_namespace(c, long_namespace, strlen(long_namespace));                     \
      out("%s", rc(f(c, "f", "u", "w", 1, NULL)));                                                 \
    }                                                                                              \
  } while (0)

/* A void function of one object: NULL and the zeroed shell. */
#define VOID1(fn, shell, ...)                                                                          \
  do                                                                                                   \
  {                                                                                                    \
    T(fn, "null") { fn(NULL, ##__VA_ARGS__); out("void"); }                                            \
    T(fn, "shell") { fn(shell, ##__VA_ARGS__); out("void"); }                                          \
  } while (0)

/* A function of one object returning a value printed with `fmt`/`conv`. */
#define VAL1(fn, shell, fmt, conv, ...)                                                                \
  do                                                                                                   \
  {                                                                                                    \
    T(fn, "null") out(fmt, conv(fn(NULL, ##__VA_ARGS__)));                                             \
    T(fn, "shell") out(fmt, conv(fn(shell, ##__VA_ARGS__)));                                           \
  } while (0)

#define ID(x) (x)
#define INT(x) ((int)(x))
#define UL(x) ((unsigned long)(x))

static gearman_client_st zc;
static gearman_worker_st zw;
static gearman_job_st zj;
static gearman_task_st zt;

static void client_cases(void)
{
  T(gearman_client_create, "null") out("%s", p(gearman_client_create(NULL)));
  T(gearman_client_create, "shell") out("%s", gearman_client_create(&zc) == &zc ? "caller storage" : "other");
  T(gearman_client_clone, "null") out("%s", p(gearman_client_clone(NULL, NULL)));
  T(gearman_client_clone, "shell") out("%s", p(gearman_client_clone(NULL, &zc)));
  VOID1(gearman_client_free, &zc);
  T(gearman_client_free, "allocated_shell")
  {
    gearman_client_st shell;
    memset(&shell, 0, sizeof shell);
    shell.options.is_allocated = true; /* claims to be the library's heap memory; _impl is NULL */
    gearman_client_free(&shell);
    out("void");
  }
  VAL1(gearman_client_error, &zc, "%s", p);
  VAL1(gearman_client_error_code, &zc, "%s", rc);
  VAL1(gearman_client_errno, &zc, "%d", INT);
  VAL1(gearman_client_options, &zc, "%d", INT);
  VOID1(gearman_client_set_options, &zc, GEARMAN_CLIENT_NON_BLOCKING);
  VOID1(gearman_client_add_options, &zc, GEARMAN_CLIENT_NON_BLOCKING);
  VAL1(gearman_client_has_option, &zc, "%s", b, GEARMAN_CLIENT_NON_BLOCKING);
  VOID1(gearman_client_remove_options, &zc, GEARMAN_CLIENT_NON_BLOCKING);
  VAL1(gearman_client_timeout, &zc, "%d", INT);
  VOID1(gearman_client_set_timeout, &zc, 10);
  VOID1(gearman_client_set_ssl, &zc, true, NULL, NULL, NULL);
  T(gearman_client_set_ssl, "null_args") { gearman_client_set_ssl(live_client(), true, NULL, NULL, NULL); out("void"); }
  VAL1(gearman_client_context, &zc, "%s", p);
  VOID1(gearman_client_set_context, &zc, NULL);
  VOID1(gearman_client_set_log_fn, &zc, NULL, NULL, GEARMAN_VERBOSE_MAX);
  T(gearman_client_set_log_fn, "null_args") { gearman_client_set_log_fn(live_client(), NULL, NULL, GEARMAN_VERBOSE_MAX); out("void"); }
  VOID1(gearman_client_set_workload_malloc_fn, &zc, NULL, NULL);
  VOID1(gearman_client_set_workload_free_fn, &zc, NULL, NULL);
  VAL1(gearman_client_set_memory_allocators, &zc, "%s", rc, NULL, NULL, NULL, NULL, NULL);
  T(gearman_client_set_memory_allocators, "null_args") out("%s", rc(gearman_client_set_memory_allocators(live_client(), NULL, NULL, NULL, NULL, NULL)));
  VAL1(gearman_client_add_server, &zc, "%s", rc, NULL, 0);
  T(gearman_client_add_server, "null_args") out("%s", rc(gearman_client_add_server(live_client(), NULL, 0)));
  VAL1(gearman_client_add_servers, &zc, "%s", rc, NULL);
  T(gearman_client_add_servers, "null_args") out("%s", rc(gearman_client_add_servers(live_client(), NULL)));
  VOID1(gearman_client_remove_servers, &zc);
  VAL1(gearman_client_wait, &zc, "%s", rc);
  DO_CASES(gearman_client_do);
  DO_CASES(gearman_client_do_high);
  DO_CASES(gearman_client_do_low);
  T(gearman_client_do_job_handle, "null") { errno = 0; const char *h = gearman_client_do_job_handle(NULL); out("%s errno=%d", p(h), errno); }
  T(gearman_client_do_job_handle, "shell") { errno = 0; const char *h = gearman_client_do_job_handle(&zc); out("%s errno=%d", p(h), errno); }
  T(gearman_client_do_status, "null") { gearman_client_do_status(NULL, NULL, NULL); out("void"); }
  T(gearman_client_do_status, "shell")
  {
    uint32_t n = 7, d = 7;
    gearman_client_do_status(&zc, &n, &d);
    out("%u/%u", n, d);
  }
  DO_BG_CASES(gearman_client_do_background);
  DO_BG_CASES(gearman_client_do_high_background);
  DO_BG_CASES(gearman_client_do_low_background);
  T(gearman_client_job_status, "null") out("%s", rc(gearman_client_job_status(NULL, NULL, NULL, NULL, NULL, NULL)));
  T(gearman_client_job_status, "shell")
  {
    bool k = true, r = true;
    uint32_t n = 7, d = 7;
    gearman_return_t x = gearman_client_job_status(&zc, small_handle, &k, &r, &n, &d);
    out("%s known=%s running=%s %u/%u", rc(x), b(k), b(r), n, d);
  }
  T(gearman_client_job_status, "null_handle")
  {
    bool k = true, r = true;
    uint32_t n = 7, d = 7;
    gearman_return_t x = gearman_client_job_status(live_client(), NULL, &k, &r, &n, &d);
    out("%s known=%s running=%s %u/%u", rc(x), b(k), b(r), n, d);
  }
  T(gearman_client_job_status, "long_handle_server")
  {
    bool k = true, r = true;
    uint32_t n = 7, d = 7;
    gearman_client_st *c = live_client();
    gearman_client_add_server(c, "127.0.0.1", 1);
    gearman_return_t x = gearman_client_job_status(c, long_handle, &k, &r, &n, &d);
    out("%s known=%s running=%s %u/%u", rc(x), b(k), b(r), n, d);
  }
  T(gearman_client_job_status, "long_handle")
  {
    bool k = true, r = true;
    uint32_t n = 7, d = 7;
    gearman_return_t x = gearman_client_job_status(live_client(), long_handle, &k, &r, &n, &d);
    out("%s known=%s running=%s %u/%u", rc(x), b(k), b(r), n, d);
  }
#define STATUS_OUT(s) out("%s known=%s running=%s %u/%u", rc(gearman_status_return(s)), b(gearman_status_is_known(s)), \
                          b(gearman_status_is_running(s)), gearman_status_numerator(s), gearman_status_denominator(s))
  T(gearman_client_unique_status, "null") { gearman_status_t s = gearman_client_unique_status(NULL, NULL, 0); STATUS_OUT(s); }
  T(gearman_client_unique_status, "shell") { gearman_status_t s = gearman_client_unique_status(&zc, "u", 1); STATUS_OUT(s); }
  T(gearman_client_unique_status, "null_unique") { gearman_status_t s = gearman_client_unique_status(live_client(), NULL, 0); STATUS_OUT(s); }
  T(gearman_client_unique_status, "long_unique")
  {
    gearman_status_t s = gearman_client_unique_status(live_client(), long_unique, strlen(long_unique));
    STATUS_OUT(s);
  }
  T(gearman_client_add_task_status_by_unique, "null") out("%s", p(gearman_client_add_task_status_by_unique(NULL, NULL, NULL, NULL)));
  T(gearman_client_add_task_status_by_unique, "shell")
  {
    gearman_return_t r = UNTOUCHED;
    const void *t = gearman_client_add_task_status_by_unique(&zc, NULL, "u", &r);
    out("%s %s", p(t), rc(r));
  }
  T(gearman_client_add_task_status_by_unique, "null_unique")
  {
    gearman_return_t r = UNTOUCHED;
    const void *t = gearman_client_add_task_status_by_unique(live_client(), NULL, NULL, &r);
    out("%s %s", p(t), rc(r));
  }
  T(gearman_client_add_task_status_by_unique, "unique_64")
  {
    /* 64 bytes: accepted, but 1.1.20 copies it into a 64-byte field with its NUL. */
    char unique[GEARMAN_MAX_UNIQUE_SIZE + 1];
    memset(unique, 'u', sizeof unique - 1);
    unique[sizeof unique - 1] = 0;
    gearman_return_t r = UNTOUCHED;
    gearman_task_st *t = gearman_client_add_task_status_by_unique(live_client(), NULL, unique, &r);
    out("%s %s", p(t), rc(r));
  }
  T(gearman_client_add_task_status_by_unique, "long_unique")
  {
    gearman_return_t r = UNTOUCHED;
    const void *t = gearman_client_add_task_status_by_unique(live_client(), NULL, long_unique, &r);
    out("%s %s", p(t), rc(r));
  }
  VAL1(gearman_client_echo, &zc, "%s", rc, "x", 1);
  T(gearman_client_echo, "null_args") out("%s", rc(gearman_client_echo(live_client(), NULL, 0)));
  VOID1(gearman_client_task_free_all, &zc);
  VOID1(gearman_client_set_task_context_free_fn, &zc, NULL);
  ADD_TASK_CASES(gearman_client_add_task);
  ADD_TASK_CASES(gearman_client_add_task_high);
  ADD_TASK_CASES(gearman_client_add_task_low);
  ADD_TASK_CASES(gearman_client_add_task_background);
  ADD_TASK_CASES(gearman_client_add_task_high_background);
  ADD_TASK_CASES(gearman_client_add_task_low_background);
  T(gearman_client_add_task_status, "null") out("%s", p(gearman_client_add_task_status(NULL, NULL, NULL, NULL, NULL)));
  T(gearman_client_add_task_status, "shell")
  {
    gearman_return_t r = UNTOUCHED;
    const void *t = gearman_client_add_task_status(&zc, NULL, NULL, "H:x:1", &r);
    out("%s %s", p(t), rc(r));
  }
  T(gearman_client_add_task_status, "null_handle")
  {
    gearman_return_t r = UNTOUCHED;
    const void *t = gearman_client_add_task_status(live_client(), NULL, NULL, NULL, &r);
    out("%s %s", p(t), rc(r));
  }
  T(gearman_client_add_task_status, "long_handle")
  {
    gearman_return_t r = UNTOUCHED;
    gearman_task_st *t = gearman_client_add_task_status(live_client(), NULL, NULL, long_handle, &r);
    out("%s %s handle_len=%zu", p(t), rc(r), t ? strlen(gearman_task_job_handle(t)) : (size_t)0);
  }
  VOID1(gearman_client_set_workload_fn, &zc, NULL);
  VOID1(gearman_client_set_created_fn, &zc, NULL);
  VOID1(gearman_client_set_data_fn, &zc, NULL);
  VOID1(gearman_client_set_warning_fn, &zc, NULL);
  VOID1(gearman_client_set_status_fn, &zc, NULL);
  VOID1(gearman_client_set_complete_fn, &zc, NULL);
  VOID1(gearman_client_set_exception_fn, &zc, NULL);
  VOID1(gearman_client_set_fail_fn, &zc, NULL);
  VOID1(gearman_client_clear_fn, &zc);
  VAL1(gearman_client_run_tasks, &zc, "%s", rc);
  T(gearman_client_compare, "null") out("%s", b(gearman_client_compare(NULL, NULL)));
  T(gearman_client_compare, "shell") out("%s", b(gearman_client_compare(&zc, &zc)));
  T(gearman_client_compare, "no_servers")
  {
    gearman_client_st *c = live_client();
    out("%s", b(gearman_client_compare(c, c)));
  }
  VAL1(gearman_client_set_server_option, &zc, "%s", b, "exceptions", 10);
  T(gearman_client_set_server_option, "null_args") out("%s", b(gearman_client_set_server_option(live_client(), NULL, 0)));
  VOID1(gearman_client_set_namespace, &zc, "ns", 2);
  T(gearman_client_set_namespace, "null_args") { gearman_client_set_namespace(live_client(), NULL, 0); out("void"); }
  VAL1(gearman_client_set_identifier, &zc, "%s", rc, "id", 2);
  T(gearman_client_set_identifier, "null_args") out("%s", rc(gearman_client_set_identifier(live_client(), NULL, 0)));
  T(gearman_client_set_identifier, "long_id") out("%s", rc(gearman_client_set_identifier(live_client(), long_id, strlen(long_id))));
  VAL1(gearman_client_has_tasks, &zc, "%s", b);
  VAL1(gearman_client_has_active_tasks, &zc, "%s", b);
  T(gearman_client_cancel_job, "null") out("%s", rc(gearman_client_cancel_job(NULL, NULL)));
  T(gearman_client_cancel_job, "shell") out("%s", rc(gearman_client_cancel_job(&zc, small_handle)));
  T(gearman_client_cancel_job, "null_handle") out("%s", rc(gearman_client_cancel_job(live_client(), NULL)));
  T(gearman_client_cancel_job, "null_handle_server")
  {
    gearman_client_st *c = live_client();
    gearman_client_add_server(c, "127.0.0.1", 1);
    out("%s", rc(gearman_client_cancel_job(c, NULL)));
  }
  T(gearman_client_cancel_job, "long_handle_server")
  {
    gearman_client_st *c = live_client();
    gearman_client_add_server(c, "127.0.0.1", 1);
    out("%s", rc(gearman_client_cancel_job(c, long_handle)));
  }
  T(gearman_client_cancel_job, "long_handle") out("%s", rc(gearman_client_cancel_job(live_client(), long_handle)));
}

static void task_cases(void)
{
  VOID1(gearman_task_free, &zt);
  T(gearman_task_free, "allocated_shell")
  {
    gearman_task_st shell;
    memset(&shell, 0, sizeof shell);
    shell.options.is_allocated = true; /* claims to be the library's heap memory; _impl is NULL */
    gearman_task_free(&shell);
    out("void");
  }
  VAL1(gearman_task_context, &zt, "%s", p);
  VOID1(gearman_task_set_context, &zt, NULL);
  VAL1(gearman_task_function_name, &zt, "%s", p);
  VAL1(gearman_task_unique, &zt, "%s", p);
  VAL1(gearman_task_job_handle, &zt, "%s", p);
  VAL1(gearman_task_is_known, &zt, "%s", b);
  VAL1(gearman_task_is_running, &zt, "%s", b);
  VAL1(gearman_task_numerator, &zt, "%u", ID);
  VAL1(gearman_task_denominator, &zt, "%u", ID);
  T(gearman_task_give_workload, "null") { gearman_task_give_workload(NULL, NULL, 0); out("void"); }
  T(gearman_task_give_workload, "shell") { gearman_task_give_workload(&zt, "w", 1); out("void"); }
  T(gearman_task_give_workload, "null_args")
  {
    gearman_task_st *t = live_task(live_client());
    gearman_task_give_workload(t, NULL, 0);
    out("void");
  }
  T(gearman_task_send_workload, "null") out("%zu", gearman_task_send_workload(NULL, NULL, 0, NULL));
  T(gearman_task_send_workload, "shell")
  {
    gearman_return_t r = UNTOUCHED;
    size_t n = gearman_task_send_workload(&zt, "w", 1, &r);
    out("%zu %s", n, rc(r));
  }
  T(gearman_task_send_workload, "null_args")
  {
    gearman_return_t r = UNTOUCHED;
    size_t n = gearman_task_send_workload(live_task(live_client()), NULL, 0, &r);
    out("%zu %s", n, rc(r));
  }
  VAL1(gearman_task_data, &zt, "%s", p);
  VAL1(gearman_task_data_size, &zt, "%lu", UL);
  T(gearman_task_take_data, "null") out("%s", p(gearman_task_take_data(NULL, NULL)));
  T(gearman_task_take_data, "shell")
  {
    size_t size = 99;
    void *d = gearman_task_take_data(&zt, &size);
    out("%s size=%zu", p(d), size);
  }
  T(gearman_task_take_data, "no_packet")
  {
    size_t size = 99;
    void *d = gearman_task_take_data(live_task(live_client()), &size);
    out("%s size=%zu", p(d), size);
  }
  T(gearman_task_recv_data, "null") out("%zu", gearman_task_recv_data(NULL, NULL, 0, NULL));
  T(gearman_task_recv_data, "shell")
  {
    char buf[8];
    gearman_return_t r = UNTOUCHED;
    size_t n = gearman_task_recv_data(&zt, buf, sizeof buf, &r);
    out("%zu %s", n, rc(r));
  }
  T(gearman_task_recv_data, "null_args")
  {
    gearman_return_t r = UNTOUCHED;
    size_t n = gearman_task_recv_data(live_task(live_client()), NULL, 8, &r);
    out("%zu %s", n, rc(r));
  }
  VAL1(gearman_task_error, &zt, "%s", p);
  VAL1(gearman_task_result, &zt, "%s", p);
  VAL1(gearman_task_return, &zt, "%s", rc);
  VAL1(gearman_task_strstate, &zt, "%s", p);
  VAL1(gearman_task_has_exception, &zt, "%s", b);
  T(gearman_task_exception, "null") { gearman_string_t s = gearman_task_exception(NULL); out("%s %zu", p(s.c_str), s.size); }
  T(gearman_task_exception, "shell") { gearman_string_t s = gearman_task_exception(&zt); out("%s %zu", p(s.c_str), s.size); }
  VAL1(gearman_task_is_finished, &zt, "%s", b);
  VAL1(gearman_next, &zt, "%s", p);
#define ATTR_OUT(a) out("kind=%d priority=%d epoch=%ld", (int)(a).kind, (int)(a).priority, (long)(a).options.epoch.value)
  T(gearman_task_attr_init, "max_priority") { gearman_task_attr_t a = gearman_task_attr_init(GEARMAN_JOB_PRIORITY_MAX); ATTR_OUT(a); }
  T(gearman_task_attr_init_background, "max_priority") { gearman_task_attr_t a = gearman_task_attr_init_background(GEARMAN_JOB_PRIORITY_MAX); ATTR_OUT(a); }
  T(gearman_task_attr_init_epoch, "negative") { gearman_task_attr_t a = gearman_task_attr_init_epoch(-1, GEARMAN_JOB_PRIORITY_MAX); ATTR_OUT(a); }
}

static void worker_cases(void)
{
  T(gearman_worker_create, "null") out("%s", p(gearman_worker_create(NULL)));
  T(gearman_worker_create, "shell") out("%s", gearman_worker_create(&zw) == &zw ? "caller storage" : "other");
  T(gearman_worker_clone, "null") out("%s", p(gearman_worker_clone(NULL, NULL)));
  T(gearman_worker_clone, "shell") out("%s", p(gearman_worker_clone(NULL, &zw)));
  VOID1(gearman_worker_free, &zw);
  T(gearman_worker_free, "allocated_shell")
  {
    gearman_worker_st shell;
    memset(&shell, 0, sizeof shell);
    shell.options.is_allocated = true; /* claims to be the library's heap memory; _impl is NULL */
    gearman_worker_free(&shell);
    out("void");
  }
  VAL1(gearman_worker_error, &zw, "%s", p);
  VAL1(gearman_worker_errno, &zw, "%d", INT);
  VAL1(gearman_worker_options, &zw, "%d", INT);
  VOID1(gearman_worker_set_options, &zw, GEARMAN_WORKER_NON_BLOCKING);
  VOID1(gearman_worker_add_options, &zw, GEARMAN_WORKER_NON_BLOCKING);
  VOID1(gearman_worker_remove_options, &zw, GEARMAN_WORKER_NON_BLOCKING);
  VAL1(gearman_worker_timeout, &zw, "%d", INT);
  VOID1(gearman_worker_set_timeout, &zw, 10);
  VAL1(gearman_worker_context, &zw, "%s", p);
  VOID1(gearman_worker_set_context, &zw, NULL);
  VOID1(gearman_worker_set_log_fn, &zw, NULL, NULL, GEARMAN_VERBOSE_MAX);
  VOID1(gearman_worker_set_workload_malloc_fn, &zw, NULL, NULL);
  VOID1(gearman_worker_set_workload_free_fn, &zw, NULL, NULL);
  VAL1(gearman_worker_set_memory_allocators, &zw, "%s", rc, NULL, NULL, NULL, NULL, NULL);
  VAL1(gearman_worker_add_server, &zw, "%s", rc, NULL, 0);
  T(gearman_worker_add_server, "null_args") out("%s", rc(gearman_worker_add_server(live_worker(), NULL, 0)));
  VAL1(gearman_worker_add_servers, &zw, "%s", rc, NULL);
  T(gearman_worker_add_servers, "null_args") out("%s", rc(gearman_worker_add_servers(live_worker(), NULL)));
  VOID1(gearman_worker_remove_servers, &zw);
  VAL1(gearman_worker_wait, &zw, "%s", rc);
  T(gearman_worker_register, "null") out("%s", rc(gearman_worker_register(NULL, NULL, 0)));
  T(gearman_worker_register, "shell") out("%s", rc(gearman_worker_register(&zw, "f", 0)));
  T(gearman_worker_register, "null_name") out("%s", rc(gearman_worker_register(live_worker(), NULL, 0)));
  T(gearman_worker_register, "long_name") out("%s", rc(gearman_worker_register(live_worker(), long_name, 0)));
  T(gearman_worker_unregister, "null") out("%s", rc(gearman_worker_unregister(NULL, NULL)));
  T(gearman_worker_unregister, "shell") out("%s", rc(gearman_worker_unregister(&zw, "f")));
  T(gearman_worker_unregister, "null_name") out("%s", rc(gearman_worker_unregister(live_worker(), NULL)));
  T(gearman_worker_unregister, "null_name_registered")
  {
    gearman_worker_st *w = live_worker();
    gearman_worker_register(w, "f", 0);
    out("%s", rc(gearman_worker_unregister(w, NULL)));
  }
  T(gearman_worker_unregister, "long_name") out("%s", rc(gearman_worker_unregister(live_worker(), long_name)));
  VAL1(gearman_worker_unregister_all, &zw, "%s", rc);
  T(gearman_worker_grab_job, "null") out("%s", p(gearman_worker_grab_job(NULL, NULL, NULL)));
  T(gearman_worker_grab_job, "shell")
  {
    gearman_return_t r = UNTOUCHED;
    const void *j = gearman_worker_grab_job(&zw, NULL, &r);
    out("%s %s", p(j), rc(r));
  }
  T(gearman_worker_grab_job, "caller_job")
  {
    gearman_worker_st *w = live_worker();
    gearman_job_st storage;
    memset(&storage, 0, sizeof storage);
    gearman_return_t r = UNTOUCHED;
    gearman_worker_register(w, "f", 0);
    const void *j = gearman_worker_grab_job(w, &storage, &r);
    out("%s %s", p(j), rc(r));
  }
  T(gearman_worker_function_exist, "null") out("%s", b(gearman_worker_function_exist(NULL, NULL, 0)));
  T(gearman_worker_function_exist, "shell") out("%s", b(gearman_worker_function_exist(&zw, "f", 1)));
  T(gearman_worker_function_exist, "null_name") out("%s", b(gearman_worker_function_exist(live_worker(), NULL, 0)));
  T(gearman_worker_function_exist, "long_name")
  {
    gearman_worker_st *w = live_worker();
    out("%s", b(gearman_worker_function_exist(w, long_name, strlen(long_name))));
  }
  T(gearman_worker_add_function, "null") out("%s", rc(gearman_worker_add_function(NULL, NULL, 0, NULL, NULL)));
  T(gearman_worker_add_function, "shell") out("%s", rc(gearman_worker_add_function(&zw, "f", 0, worker_fn, NULL)));
  T(gearman_worker_add_function, "null_name") out("%s", rc(gearman_worker_add_function(live_worker(), NULL, 0, worker_fn, NULL)));
  T(gearman_worker_add_function, "null_fn") out("%s", rc(gearman_worker_add_function(live_worker(), "f", 0, NULL, NULL)));
  T(gearman_worker_add_function, "long_name") out("%s", rc(gearman_worker_add_function(live_worker(), long_name, 0, worker_fn, NULL)));
  {
    gearman_function_t none;
    memset(&none, 0, sizeof none);
    gearman_function_t v1 = gearman_function_create_v1(worker_fn);
    T(gearman_worker_define_function, "null") out("%s", rc(gearman_worker_define_function(NULL, NULL, 0, none, 0, NULL)));
    T(gearman_worker_define_function, "shell") out("%s", rc(gearman_worker_define_function(&zw, "f", 1, v1, 0, NULL)));
    T(gearman_worker_define_function, "null_name") out("%s", rc(gearman_worker_define_function(live_worker(), NULL, 0, v1, 0, NULL)));
    T(gearman_worker_define_function, "long_name")
    {
      out("%s", rc(gearman_worker_define_function(live_worker(), long_name, strlen(long_name), v1, 0, NULL)));
    }
  }
  VAL1(gearman_worker_work, &zw, "%s", rc);
  VAL1(gearman_worker_echo, &zw, "%s", rc, "x", 1);
  T(gearman_worker_echo, "null_args") out("%s", rc(gearman_worker_echo(live_worker(), NULL, 0)));
  VAL1(gearman_worker_set_server_option, &zw, "%s", b, "exceptions", 10);
  VOID1(gearman_worker_set_namespace, &zw, "ns", 2);
  T(gearman_worker_set_namespace, "null_args") { gearman_worker_set_namespace(live_worker(), NULL, 0); out("void"); }
  VAL1(gearman_worker_namespace, &zw, "%s", p);
  T(gearman_worker_id, "null") { gearman_id_t id = gearman_worker_id(NULL); out("%d,%d", id.read_fd, id.write_fd); }
  T(gearman_worker_id, "shell") { gearman_id_t id = gearman_worker_id(&zw); out("%d,%d", id.read_fd, id.write_fd); }
  VAL1(gearman_worker_set_identifier, &zw, "%s", rc, "id", 2);
  T(gearman_worker_set_identifier, "null_args") out("%s", rc(gearman_worker_set_identifier(live_worker(), NULL, 0)));
  T(gearman_worker_set_identifier, "long_id") out("%s", rc(gearman_worker_set_identifier(live_worker(), long_id, strlen(long_id))));
  VOID1(gearman_job_free_all, &zw);
}

static void job_cases(void)
{
  VOID1(gearman_job_free, &zj);
  T(gearman_job_free, "allocated_shell")
  {
    gearman_job_st shell;
    memset(&shell, 0, sizeof shell);
    shell.options.is_allocated = true; /* claims to be the library's heap memory; _impl is NULL */
    gearman_job_free(&shell);
    out("void");
  }
  VAL1(gearman_job_send_data, &zj, "%s", rc, "d", 1);
  VAL1(gearman_job_send_warning, &zj, "%s", rc, "d", 1);
  VAL1(gearman_job_send_status, &zj, "%s", rc, 1, 2);
  VAL1(gearman_job_send_complete, &zj, "%s", rc, "d", 1);
  VAL1(gearman_job_send_exception, &zj, "%s", rc, "d", 1);
  VAL1(gearman_job_send_fail, &zj, "%s", rc);
  T(gearman_job_send_data, "null_args") out("%s", rc(gearman_job_send_data(&zj, NULL, 0)));
  T(gearman_job_send_exception, "null_args") out("%s", rc(gearman_job_send_exception(&zj, NULL, 0)));
  VAL1(gearman_job_handle, &zj, "%s", p);
  VAL1(gearman_job_function_name, &zj, "%s", p);
  VAL1(gearman_job_unique, &zj, "%s", p);
  VAL1(gearman_job_workload, &zj, "%s", p);
  VAL1(gearman_job_workload_size, &zj, "%lu", UL);
  T(gearman_job_take_workload, "null") out("%s", p(gearman_job_take_workload(NULL, NULL)));
  T(gearman_job_take_workload, "shell")
  {
    size_t size = 99;
    void *w = gearman_job_take_workload(&zj, &size);
    out("%s size=%zu", p(w), size);
  }
  VAL1(gearman_job_clone_worker, &zj, "%s", p);
  VAL1(gearman_job_use_client, &zj, "%s", p);
  VAL1(gearman_job_error, &zj, "%s", p);
}

static void value_cases(void)
{
  T(gearman_result_integer, "null") out("%lld", (long long)gearman_result_integer(NULL));
  T(gearman_result_boolean, "null") out("%s", b(gearman_result_boolean(NULL)));
  T(gearman_result_string, "null") { gearman_string_t s = gearman_result_string(NULL); out("%s %zu", p(s.c_str), s.size); }
  T(gearman_result_store_string, "null")
  {
    gearman_string_t s = {NULL, 0};
    out("%s", rc(gearman_result_store_string(NULL, s)));
  }
  T(gearman_result_store_integer, "null") { gearman_result_store_integer(NULL, 1); out("void"); }
  T(gearman_result_store_value, "null") out("%s", rc(gearman_result_store_value(NULL, NULL, 0)));
  T(gearman_result_size, "null") out("%lu", (unsigned long)gearman_result_size(NULL));
  T(gearman_result_value, "null") out("%s", p(gearman_result_value(NULL)));
  T(gearman_result_is_null, "null") out("%s", b(gearman_result_is_null(NULL)));

  gearman_status_t zs;
  memset(&zs, 0, sizeof zs);
  T(gearman_status_return, "zeroed") out("%s", rc(gearman_status_return(zs)));
  T(gearman_status_is_known, "zeroed") out("%s", b(gearman_status_is_known(zs)));
  T(gearman_status_is_running, "zeroed") out("%s", b(gearman_status_is_running(zs)));
  T(gearman_status_numerator, "zeroed") out("%u", gearman_status_numerator(zs));
  T(gearman_status_denominator, "zeroed") out("%u", gearman_status_denominator(zs));

  T(gearman_argument_make, "null")
  {
    gearman_argument_t a = gearman_argument_make(NULL, 0, NULL, 0);
    out("name=%s,%zu value=%s,%zu", p(a.name.c_str), a.name.size, p(a.value.c_str), a.value.size);
  }
#define FN_OUT(f) out("kind=%d", (int)(f).kind)
  T(gearman_function_create, "null") { gearman_function_t f = gearman_function_create(NULL); FN_OUT(f); }
  T(gearman_function_create_v1, "null") { gearman_function_t f = gearman_function_create_v1(NULL); FN_OUT(f); }
  T(gearman_function_create_v2, "null") { gearman_function_t f = gearman_function_create_v2(NULL); FN_OUT(f); }
  T(gearman_function_create_partition, "null") { gearman_function_t f = gearman_function_create_partition(NULL, NULL); FN_OUT(f); }
}

static void execute_cases(void)
{
  gearman_argument_t arg = gearman_argument_make(NULL, 0, "w", 1);
  T(gearman_execute, "null") out("%s", p(gearman_execute(NULL, NULL, 0, NULL, 0, NULL, NULL, NULL)));
  T(gearman_execute, "shell") out("%s", p(gearman_execute(&zc, "f", 1, NULL, 0, NULL, &arg, NULL)));
  T(gearman_execute, "null_args")
  {
    gearman_client_st *c = live_client();
    const void *t = gearman_execute(c, NULL, 0, NULL, 0, NULL, NULL, NULL);
    out("%s %s", p(t), rc(gearman_client_error_code(c)));
  }
  T(gearman_execute, "long_name")
  {
    gearman_client_st *c = live_client();
    gearman_task_st *t = gearman_execute(c, long_name, strlen(long_name), NULL, 0, NULL, &arg, NULL);
    out("%s %s", p(t), rc(t ? gearman_task_return(t) : gearman_client_error_code(c)));
  }
  T(gearman_execute, "long_unique")
  {
    gearman_client_st *c = live_client();
    gearman_task_st *t = gearman_execute(c, "f", 1, long_unique, strlen(long_unique), NULL, &arg, NULL);
    out("%s %s", p(t), rc(t ? gearman_task_return(t) : gearman_client_error_code(c)));
  }
  T(gearman_execute, "long_namespace")
  {
    gearman_client_st *c = live_client();
    gearman_client_set_namespace(c, long_namespace, strlen(long_namespace));
    gearman_task_st *t = gearman_execute(c, "f", 1, NULL, 0, NULL, &arg, NULL);
    out("%s %s", p(t), rc(t ? gearman_task_return(t) : gearman_client_error_code(c)));
  }
  T(gearman_execute_by_partition, "null") out("%s", p(gearman_execute_by_partition(NULL, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL)));
  T(gearman_execute_by_partition, "shell") out("%s", p(gearman_execute_by_partition(&zc, "p", 1, "f", 1, NULL, 0, NULL, &arg, NULL)));
  T(gearman_execute_by_partition, "null_args")
  {
    gearman_client_st *c = live_client();
    const void *t = gearman_execute_by_partition(c, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL);
    out("%s %s", p(t), rc(gearman_client_error_code(c)));
  }
  T(gearman_execute_by_partition, "long_name")
  {
    gearman_client_st *c = live_client();
    gearman_task_st *t = gearman_execute_by_partition(c, "p", 1, long_name, strlen(long_name), NULL, 0, NULL, &arg, NULL);
    out("%s %s", p(t), rc(t ? gearman_task_return(t) : gearman_client_error_code(c)));
  }
  T(gearman_execute_by_partition, "long_unique")
  {
    gearman_client_st *c = live_client();
    gearman_task_st *t = gearman_execute_by_partition(c, "p", 1, "f", 1, long_unique, strlen(long_unique), NULL, &arg, NULL);
    out("%s %s", p(t), rc(t ? gearman_task_return(t) : gearman_client_error_code(c)));
  }
}

static void util_cases(void)
{
  T(gearman_strerror, "max") out("%s", gearman_strerror(GEARMAN_MAX_RETURN));
  T(gearman_verbose_name, "max") out("%s", gearman_verbose_name(GEARMAN_VERBOSE_MAX));
  T(gearman_version, "plain") out("%s", p(gearman_version()));
  T(gearman_bugreport, "plain") out("%s", p(gearman_bugreport()));
  T(gearman_parse_servers, "null") out("%s", rc(gearman_parse_servers(NULL, NULL, NULL)));
  T(gearman_parse_servers, "null_servers") out("%s", rc(gearman_parse_servers(NULL, parse_cb, NULL)));
  T(gearman_parse_servers, "null_callback") out("%s", rc(gearman_parse_servers("a:1", NULL, NULL)));
  gearman_id_t bad = gearman_id_initialize();
  T(gearman_kill, "invalid_id") out("%s", rc(gearman_kill(bad, GEARMAN_KILL)));
  T(gearman_id_valid, "invalid_id") out("%s", b(gearman_id_valid(bad)));
  T(gearman_id_initialize, "plain") { gearman_id_t id = gearman_id_initialize(); out("%d,%d", id.read_fd, id.write_fd); }
  T(gearman_aggegator_context, "null") out("%s", p(gearman_aggegator_context(NULL)));
  T(_Z21gearman_actions_pausev, "plain")
  {
    /* C++ `const gearman_actions_t &gearman_actions_pause()`: a reference is a pointer in RAX. */
    const void *(*pause_fn)(void) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, "_Z21gearman_actions_pausev");
    memcpy(&pause_fn, &sym, sizeof sym);
    out("%s", sym ? p(pause_fn()) : "not exported");
  }
}

int main(int argc, char **argv)
{
  unsetenv("GEARMAN_SERVERS");
  if (argc > 1)
    only = argv[1];
  memset(long_name, 'f', sizeof long_name - 1);
  memset(long_unique, 'u', sizeof long_unique - 1);
  memset(long_handle, 'h', sizeof long_handle - 1);
  memcpy(long_handle, "H:", 2);
  memset(long_id, 'i', sizeof long_id - 1);
  memset(long_namespace, 'n', sizeof long_namespace - 1);
  memset(&zc, 0, sizeof zc);
  memset(&zw, 0, sizeof zw);
  memset(&zj, 0, sizeof zj);
  memset(&zt, 0, sizeof zt);

  client_cases();
  task_cases();
  worker_cases();
  job_cases();
  value_cases();
  execute_cases();
  util_cases();
  fprintf(stderr, "%d cases, %d crashed\n", cases, crashes);
  return 0;
}
