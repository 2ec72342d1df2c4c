
/* Prototypes cbindgen cannot spell (a parameter of the array type gearman_job_handle_t);
 * excluded from the generated part in cbindgen.toml. */
#ifdef __cplusplus
extern "C" {
#endif
gearman_return_t gearman_client_job_status(gearman_client_st *client,
                                           const gearman_job_handle_t job_handle,
                                           bool *is_known, bool *is_running,
                                           uint32_t *numerator, uint32_t *denominator);
gearman_return_t gearman_client_cancel_job(gearman_client_st *client_shell,
                                           gearman_job_handle_t job_handle);
gearman_return_t gearman_client_do_background(gearman_client_st *client,
                                              const char *function_name, const char *unique,
                                              const void *workload, size_t workload_size,
                                              gearman_job_handle_t job_handle);
gearman_return_t gearman_client_do_high_background(gearman_client_st *client,
                                                   const char *function_name, const char *unique,
                                                   const void *workload, size_t workload_size,
                                                   gearman_job_handle_t job_handle);
gearman_return_t gearman_client_do_low_background(gearman_client_st *client,
                                                  const char *function_name, const char *unique,
                                                  const void *workload, size_t workload_size,
                                                  gearman_job_handle_t job_handle);
#ifdef __cplusplus
}
#endif

/* return.h: inline helpers (not exported by the library). */
static inline bool gearman_continue(enum gearman_return_t rc)
{
  return rc == GEARMAN_IO_WAIT || rc == GEARMAN_IN_PROGRESS || rc == GEARMAN_PAUSE || rc == GEARMAN_JOB_EXISTS;
}

static inline bool gearman_failed(enum gearman_return_t rc)
{
  return rc != GEARMAN_SUCCESS;
}

static inline bool gearman_success(enum gearman_return_t rc)
{
  return rc == GEARMAN_SUCCESS;
}

/* string.h */
#define gearman_size(X) (X).size
#define gearman_c_str(X) (X).c_str
#define gearman_string_param_printf(X) int((X).size), (X).c_str
#define gearman_string_param(X) (X).c_str, (X).size
#define gearman_string_param_null NULL, 0
#define gearman_string_param_cstr(X) (X), ((X) ? strlen(X) : 0)

/* As upstream, defined for C++ only; C code defines its own. */
#ifndef gearman_literal_param
#  ifdef __cplusplus
#    define gearman_literal_param(X) (X), (static_cast<size_t>((sizeof(X) - 1)))
#    define gearman_literal_param_size(X) static_cast<size_t>(sizeof(X) - 1)
#  endif
#endif

#endif /* LIBGEARMAN_1_0_GEARMAN_H */
