
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
