/* Calls every libgearman function that needs no server, client or worker, printing one line per
 * observation. tests/capi_pure_api.rs runs it against Debian's libgearman.so.8 and against ours
 * (LD_LIBRARY_PATH) and requires identical output. With the argument "ours-only" it also prints the
 * cases where this library deliberately differs from 1.1.20. */
#include <libgearman-1.0/gearman.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *s(const char *x) { return x ? x : "(NULL)"; }

static gearman_return_t record(const char *host, in_port_t port, void *context)
{
  int *calls = (int *)context;
  (*calls)++;
  if (host && strlen(host) > 40)
    printf("  host=<%zu bytes> port=%u\n", strlen(host), (unsigned)port);
  else
    printf("  host='%s' port=%u\n", s(host), (unsigned)port);
  if (host && strcmp(host, "stop") == 0)
    return GEARMAN_TIMEOUT;
  return GEARMAN_SUCCESS;
}

static gearman_return_t fn_v2(gearman_job_st *job, void *context) { (void)job; (void)context; return GEARMAN_SUCCESS; }
static void *fn_v1(gearman_job_st *job, void *context, size_t *size, gearman_return_t *rc)
{
  (void)job; (void)context; (void)size; (void)rc; return NULL;
}
static gearman_return_t fn_agg(gearman_aggregator_st *a, gearman_task_st *t, gearman_result_st *r)
{
  (void)a; (void)t; (void)r; return GEARMAN_SUCCESS;
}

static void print_function(const char *what, gearman_function_t f)
{
  const unsigned char *b = (const unsigned char *)&f.callback;
  printf("%s kind=%u v1=%d v2=%d part=%d agg=%d zero_tail=%d\n", what, (unsigned)f.kind,
         f.callback.function_v1.func == fn_v1, f.callback.function_v2.func == fn_v2,
         f.callback.partitioner.func == fn_v2, f.callback.partitioner.aggregator == fn_agg,
         b[8] == 0 && b[15] == 0);
}

static void print_attr(const char *what, gearman_task_attr_t a)
{
  printf("%s kind=%u priority=%u epoch=%ld\n", what, (unsigned)a.kind, (unsigned)a.priority,
         (long)a.options.epoch.value);
}

int main(int argc, char **argv)
{
  int ours_only = argc > 1 && strcmp(argv[1], "ours-only") == 0;
  setvbuf(stdout, NULL, _IONBF, 0);

  if (ours_only)
  {
    /* 1.1.20 answers NULL here (undefined behaviour upstream); ours answers "UNKNOWN". */
    printf("verbose_name(-1)=%s\n", s(gearman_verbose_name((gearman_verbose_t)-1)));
    /* 1.1.20 crashes on a NULL callback; ours reports INVALID_ARGUMENT. */
    printf("parse_servers(NULL callback)=%s\n", gearman_strerror(gearman_parse_servers("a", NULL, NULL)));
    return 0;
  }

  for (int i = -2; i <= GEARMAN_MAX_RETURN + 2; i++)
    printf("strerror(%d)=%s\n", i, s(gearman_strerror((gearman_return_t)i)));
  printf("strerror(1000)=%s\n", s(gearman_strerror((gearman_return_t)1000)));
  printf("strerror(UINT_MAX)=%s\n", s(gearman_strerror((gearman_return_t)UINT_MAX)));
  printf("strerror(FAIL,FATAL,ERROR)=%s %s %s\n", gearman_strerror(GEARMAN_FAIL),
         gearman_strerror(GEARMAN_FATAL), gearman_strerror(GEARMAN_ERROR));

  for (int i = 0; i <= GEARMAN_VERBOSE_MAX + 2; i++)
    printf("verbose_name(%d)=%s\n", i, s(gearman_verbose_name((gearman_verbose_t)i)));
  printf("verbose_name(1000)=%s\n", s(gearman_verbose_name((gearman_verbose_t)1000)));

  printf("version=%s\n", s(gearman_version()));
  printf("bugreport=%s\n", s(gearman_bugreport()));

  printf("success/failed/continue:");
  for (int i = 0; i < GEARMAN_MAX_RETURN; i++)
    printf(" %d%d%d", gearman_success((gearman_return_t)i), gearman_failed((gearman_return_t)i),
           gearman_continue((gearman_return_t)i));
  printf("\n");

  {
    const char *lists[] = {"a", "a:1,b", "a:1,,b:2", "", "[::1]:4730", "::1", "h:abc", "h:",
                           "h:70000", "h:-1", ",", "a, b", " x : 12 ", "h:1:2", "one,stop,three",
                           "h:99999999999999999999", NULL};
    for (int i = 0; lists[i]; i++)
    {
      int calls = 0;
      printf("parse '%s':\n", lists[i]);
      gearman_return_t rc = gearman_parse_servers(lists[i], record, &calls);
      printf("  rc=%s calls=%d\n", gearman_strerror(rc), calls);
    }
    char longest[2100];
    memset(longest, 'h', 2000);
    strcpy(longest + 2000, ":00000000000000000000000000000000000012");
    int calls = 0;
    printf("parse long host and port:\n");
    gearman_return_t rc = gearman_parse_servers(longest, record, &calls);
    printf("  rc=%s calls=%d\n", gearman_strerror(rc), calls);
    calls = 0;
    printf("parse NULL:\n");
    rc = gearman_parse_servers(NULL, record, &calls);
    printf("  rc=%s calls=%d\n", gearman_strerror(rc), calls);
  }

  {
    const char *value = "workload";
    gearman_argument_t a = gearman_argument_make("name", 4, value, 8);
    printf("argument_make name=%p/%zu value_is_same=%d size=%zu\n", (const void *)a.name.c_str,
           a.name.size, a.value.c_str == value, a.value.size);
    gearman_argument_t b = gearman_argument_make(NULL, 0, NULL, 0);
    printf("argument_make(NULL) value=%p/%zu\n", (const void *)b.value.c_str, b.value.size);
  }

  print_function("function_create", gearman_function_create(fn_v2));
  print_function("function_create_v2", gearman_function_create_v2(fn_v2));
  print_function("function_create_v1", gearman_function_create_v1(fn_v1));
  print_function("function_create_partition", gearman_function_create_partition(fn_v2, fn_agg));
  print_function("function_create(NULL)", gearman_function_create(NULL));

  print_attr("task_attr_init(HIGH)", gearman_task_attr_init(GEARMAN_JOB_PRIORITY_HIGH));
  print_attr("task_attr_init(7)", gearman_task_attr_init((gearman_job_priority_t)7));
  print_attr("task_attr_init_background(LOW)", gearman_task_attr_init_background(GEARMAN_JOB_PRIORITY_LOW));
  print_attr("task_attr_init_epoch(1234567890, NORMAL)",
             gearman_task_attr_init_epoch(1234567890, GEARMAN_JOB_PRIORITY_NORMAL));

  {
    gearman_status_t st;
    memset(&st, 0, sizeof st);
    st.status_.mesg_.result_rc = GEARMAN_JOB_EXISTS;
    st.status_.mesg_.is_known = true;
    st.status_.mesg_.is_running = false;
    st.status_.mesg_.numerator = 3;
    st.status_.mesg_.denominator = 9;
    st.status_.mesg_.client_count = 2;
    printf("status return=%s known=%d running=%d %u/%u\n", gearman_strerror(gearman_status_return(st)),
           gearman_status_is_known(st), gearman_status_is_running(st), gearman_status_numerator(st),
           gearman_status_denominator(st));
    st.version_ = (enum gearman_status_version_t)5;
    st.status_.mesg_.is_running = true;
    printf("status(version 5) running=%d\n", gearman_status_is_running(st));
  }

  {
    gearman_id_t init = gearman_id_initialize();
    gearman_id_t half = {3, -1};
    printf("id_initialize %d %d valid=%d half_valid=%d\n", init.read_fd, init.write_fd,
           gearman_id_valid(init), gearman_id_valid(half));
    printf("kill(init, CHECK)=%s kill(half, INTERRUPT)=%s\n",
           gearman_strerror(gearman_kill(init, GEARMAN_SIGNAL_CHECK)),
           gearman_strerror(gearman_kill(half, GEARMAN_INTERRUPT)));
    int fds[2];
    if (pipe(fds) == 0)
    {
      gearman_id_t id = {fds[0], fds[1]};
      char byte = 0;
      printf("kill(pipe, INTERRUPT)=%s", gearman_strerror(gearman_kill(id, GEARMAN_INTERRUPT)));
      ssize_t got = read(fds[0], &byte, 1);
      printf(" read=%zd byte=%c", got, byte);
      printf(" kill(pipe, KILL)=%s", gearman_strerror(gearman_kill(id, GEARMAN_KILL)));
      printf(" read_after_kill=%zd\n", read(fds[0], &byte, 1));
      close(fds[0]);
    }
  }

  printf("aggegator_context(NULL)=%p\n", gearman_aggegator_context(NULL));

  {
    uint32_t n = 5, d = 6;
    gearman_client_do_status(NULL, &n, &d);
    printf("client_do_status(NULL) %u/%u\n", n, d);
    gearman_client_do_status(NULL, NULL, NULL);
  }

  printf("result(NULL) integer=%lld boolean=%d size=%zu value=%p is_null=%d\n",
         (long long)gearman_result_integer(NULL), gearman_result_boolean(NULL),
         gearman_result_size(NULL), (const void *)gearman_result_value(NULL),
         gearman_result_is_null(NULL));
  {
    gearman_string_t str = gearman_result_string(NULL);
    printf("result_string(NULL)=%p/%zu\n", (const void *)str.c_str, str.size);
  }
  printf("result_store_value(NULL)=%s\n", gearman_strerror(gearman_result_store_value(NULL, "x", 1)));
  gearman_result_store_integer(NULL, 1);
  return 0;
}
