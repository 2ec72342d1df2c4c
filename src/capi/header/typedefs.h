
/* job_handle.h */
typedef char gearman_job_handle_t[GEARMAN_JOB_HANDLE_SIZE];

/* constants.h, kill.h, function.h: the typedef names upstream declares for its structs. */
typedef struct gearman_task_st gearman_task_st;
typedef struct gearman_client_st gearman_client_st;
typedef struct gearman_job_st gearman_job_st;
typedef struct gearman_worker_st gearman_worker_st;
typedef struct gearman_allocator_t gearman_allocator_t;
typedef struct gearman_task_attr_t gearman_task_attr_t;
typedef struct gearman_result_st gearman_result_st;
typedef struct gearman_string_t gearman_string_t;
typedef struct gearman_argument_t gearman_argument_t;
typedef struct gearman_status_t gearman_status_t;
typedef struct gearman_aggregator_st gearman_aggregator_st;
typedef struct gearman_id_t gearman_id_t;
typedef struct gearman_function_t gearman_function_t;

/* constants.h: function types (not pointer types: APIs take `gearman_xxx_fn *`). */
typedef void* (gearman_malloc_fn)(size_t size, void *context);
typedef void* (gearman_realloc_fn)(void *ptr, size_t size, void *context);
typedef void* (gearman_calloc_fn)(size_t nelm, size_t size, void *context);
typedef void (gearman_free_fn)(void *ptr, void *context);
typedef gearman_return_t (gearman_parse_server_fn)(const char *host, in_port_t port, void *context);
typedef void (gearman_task_context_free_fn)(gearman_task_st *task, void *context);
typedef void (gearman_log_fn)(const char *line, gearman_verbose_t verbose, void *context);
typedef void* (gearman_worker_fn)(gearman_job_st *job, void *context,
                                  size_t *result_size,
                                  gearman_return_t *ret_ptr);
typedef gearman_return_t (gearman_function_fn)(gearman_job_st *job, void *worker_context);
typedef gearman_return_t (gearman_aggregator_fn)(gearman_aggregator_st *, gearman_task_st *, gearman_result_st *);

/* client_callbacks.h */
typedef gearman_return_t (gearman_workload_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_created_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_data_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_warning_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_universal_status_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_complete_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_exception_fn)(gearman_task_st *task);
typedef gearman_return_t (gearman_fail_fn)(gearman_task_st *task);

/* kill.h */
#define GEARMAN_ID_INITIALIZER gearman_id_initialize()
