/* Uses the public types, macros and inline helpers the way C and C++ consumers do. Compiled by
 * tests/capi_header.rs as C99 and as C++11 (-x c++) with -Wall -Wextra -Werror -pedantic; not run. */
#include <libgearman-1.0/gearman.h>
#include <libgearman/gearman.h>
#include <string.h>

static void log_line(const char *line, gearman_verbose_t verbose, void *context)
{
  (void)line; (void)verbose; (void)context;
}

static gearman_return_t on_complete(gearman_task_st *task)
{
  (void)task;
  return GEARMAN_SUCCESS;
}

static void *work_v1(gearman_job_st *job, void *context, size_t *size, gearman_return_t *ret)
{
  (void)job; (void)context; (void)size;
  *ret = GEARMAN_FAIL;
  return NULL;
}

static gearman_return_t parse_one(const char *host, in_port_t port, void *context)
{
  (void)host; (void)port; (void)context;
  return GEARMAN_ERROR;
}

int main(void)
{
  gearman_log_fn *log_fn = log_line;
  gearman_complete_fn *complete_fn = on_complete;
  struct gearman_actions_t actions;
  gearman_client_st client;
  gearman_job_handle_t handle;
  gearman_id_t id = GEARMAN_ID_INITIALIZER;
  gearman_function_t fn = gearman_function_create_v1(work_v1);
  gearman_task_attr_t attr = gearman_task_attr_init(GEARMAN_JOB_PRIORITY_NORMAL);
  gearman_return_t rc = gearman_parse_servers("localhost:" GEARMAN_DEFAULT_TCP_PORT_STRING, parse_one, NULL);
  const char *text = "abc";
  gearman_argument_t arg = gearman_argument_make(NULL, 0, gearman_string_param_cstr(text));
  size_t n = gearman_size(arg.value);
  enum gearman_signal_t sig = GEARMAN_KILL;
  gearman_verbose_t level = GEARMAN_VERBOSE_ERROR;

  memset(&actions, 0, sizeof actions);
  actions.complete_fn = complete_fn;
  client.options.is_allocated = false;
  client._impl = NULL;
  handle[0] = '\0';
  log_fn(LIBGEARMAN_VERSION_STRING, level, NULL);
  if (gearman_failed(rc) && !gearman_continue(rc) && !gearman_success(rc) && n == 3 &&
      fn.kind == GEARMAN_WORKER_FUNCTION_V1 && attr.kind == GEARMAN_TASK_ATTR_FOREGROUND &&
      sig == GEARMAN_SIGNAL_KILL && !gearman_id_valid(id) && handle[0] == 0 &&
      LIBGEARMAN_VERSION_HEX == 0x01001020 && GEARMAN_MAX_ECHO_SIZE > 0 &&
      gearman_c_str(arg.value) == text && client._impl == NULL && !client.options.is_allocated)
    return (int)strlen(gearman_strerror(GEARMAN_JOB_NOT_FOUND)) - 21;
  return 1;
}
