//! The enumerations of upstream's headers (constants.h, priority.h, protocol.h, signal.h, function.h,
//! task_attr.h, interface/task.h, interface/status.h, client.h, worker.h, connection.h) with their exact
//! values, plus the raw integer types through which C passes them.
//!
//! The Rust enums exist to generate the header and to name values in Rust; a function that receives
//! one of these types from C takes the `Raw*` newtype (`unsigned int`, the enum's C representation)
//! and converts, because C may pass values outside the enum.

use std::os::raw::c_uint;

/// Log levels (`gearman_verbose_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_verbose_t {
    GEARMAN_VERBOSE_NEVER = 0,
    GEARMAN_VERBOSE_FATAL = 1,
    GEARMAN_VERBOSE_ERROR = 2,
    GEARMAN_VERBOSE_INFO = 3,
    GEARMAN_VERBOSE_DEBUG = 4,
    GEARMAN_VERBOSE_CRAZY = 5,
    GEARMAN_VERBOSE_MAX = 6,
}

/// Options of the universal object (`gearman_universal_options_t`, public but unused by the API).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_universal_options_t {
    GEARMAN_NON_BLOCKING = 0,
    GEARMAN_DONT_TRACK_PACKETS = 1,
    GEARMAN_MAX = 2,
}

/// Connection options (`gearman_connection_options_t`, public but unused by the API).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_connection_options_t {
    GEARMAN_CON_READY = 0,
    GEARMAN_CON_PACKET_IN_USE = 1,
    GEARMAN_CON_EXTERNAL_FD = 2,
    GEARMAN_CON_IGNORE_LOST_CONNECTION = 3,
    GEARMAN_CON_CLOSE_AFTER_FLUSH = 4,
    GEARMAN_CON_MAX = 5,
}

/// Client option bits (`gearman_client_options_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_client_options_t {
    GEARMAN_CLIENT_ALLOCATED = 1,
    GEARMAN_CLIENT_NON_BLOCKING = 2,
    GEARMAN_CLIENT_TASK_IN_USE = 4,
    GEARMAN_CLIENT_UNBUFFERED_RESULT = 8,
    GEARMAN_CLIENT_NO_NEW = 16,
    GEARMAN_CLIENT_FREE_TASKS = 32,
    GEARMAN_CLIENT_GENERATE_UNIQUE = 64,
    GEARMAN_CLIENT_EXCEPTION = 128,
    GEARMAN_CLIENT_SSL = 256,
    GEARMAN_CLIENT_MAX = 512,
}

/// Worker option bits (`gearman_worker_options_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_worker_options_t {
    GEARMAN_WORKER_ALLOCATED = 1,
    GEARMAN_WORKER_NON_BLOCKING = 2,
    GEARMAN_WORKER_PACKET_INIT = 4,
    GEARMAN_WORKER_GRAB_JOB_IN_USE = 8,
    GEARMAN_WORKER_PRE_SLEEP_IN_USE = 16,
    GEARMAN_WORKER_WORK_JOB_IN_USE = 32,
    GEARMAN_WORKER_CHANGE = 64,
    GEARMAN_WORKER_GRAB_UNIQ = 128,
    GEARMAN_WORKER_TIMEOUT_RETURN = 256,
    GEARMAN_WORKER_GRAB_ALL = 512,
    GEARMAN_WORKER_SSL = 1024,
    GEARMAN_WORKER_IDENTIFIER = 2048,
    GEARMAN_WORKER_MAX = 4096,
}

/// Job priorities (`gearman_job_priority_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_job_priority_t {
    GEARMAN_JOB_PRIORITY_HIGH = 0,
    GEARMAN_JOB_PRIORITY_NORMAL = 1,
    GEARMAN_JOB_PRIORITY_LOW = 2,
    GEARMAN_JOB_PRIORITY_MAX = 3,
}

/// Wire command numbers (`gearman_command_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_command_t {
    GEARMAN_COMMAND_TEXT = 0,
    GEARMAN_COMMAND_CAN_DO = 1,
    GEARMAN_COMMAND_CANT_DO = 2,
    GEARMAN_COMMAND_RESET_ABILITIES = 3,
    GEARMAN_COMMAND_PRE_SLEEP = 4,
    GEARMAN_COMMAND_UNUSED = 5,
    GEARMAN_COMMAND_NOOP = 6,
    GEARMAN_COMMAND_SUBMIT_JOB = 7,
    GEARMAN_COMMAND_JOB_CREATED = 8,
    GEARMAN_COMMAND_GRAB_JOB = 9,
    GEARMAN_COMMAND_NO_JOB = 10,
    GEARMAN_COMMAND_JOB_ASSIGN = 11,
    GEARMAN_COMMAND_WORK_STATUS = 12,
    GEARMAN_COMMAND_WORK_COMPLETE = 13,
    GEARMAN_COMMAND_WORK_FAIL = 14,
    GEARMAN_COMMAND_GET_STATUS = 15,
    GEARMAN_COMMAND_ECHO_REQ = 16,
    GEARMAN_COMMAND_ECHO_RES = 17,
    GEARMAN_COMMAND_SUBMIT_JOB_BG = 18,
    GEARMAN_COMMAND_ERROR = 19,
    GEARMAN_COMMAND_STATUS_RES = 20,
    GEARMAN_COMMAND_SUBMIT_JOB_HIGH = 21,
    GEARMAN_COMMAND_SET_CLIENT_ID = 22,
    GEARMAN_COMMAND_CAN_DO_TIMEOUT = 23,
    GEARMAN_COMMAND_ALL_YOURS = 24,
    GEARMAN_COMMAND_WORK_EXCEPTION = 25,
    GEARMAN_COMMAND_OPTION_REQ = 26,
    GEARMAN_COMMAND_OPTION_RES = 27,
    GEARMAN_COMMAND_WORK_DATA = 28,
    GEARMAN_COMMAND_WORK_WARNING = 29,
    GEARMAN_COMMAND_GRAB_JOB_UNIQ = 30,
    GEARMAN_COMMAND_JOB_ASSIGN_UNIQ = 31,
    GEARMAN_COMMAND_SUBMIT_JOB_HIGH_BG = 32,
    GEARMAN_COMMAND_SUBMIT_JOB_LOW = 33,
    GEARMAN_COMMAND_SUBMIT_JOB_LOW_BG = 34,
    GEARMAN_COMMAND_SUBMIT_JOB_SCHED = 35,
    GEARMAN_COMMAND_SUBMIT_JOB_EPOCH = 36,
    GEARMAN_COMMAND_SUBMIT_REDUCE_JOB = 37,
    GEARMAN_COMMAND_SUBMIT_REDUCE_JOB_BACKGROUND = 38,
    GEARMAN_COMMAND_GRAB_JOB_ALL = 39,
    GEARMAN_COMMAND_JOB_ASSIGN_ALL = 40,
    GEARMAN_COMMAND_GET_STATUS_UNIQUE = 41,
    GEARMAN_COMMAND_STATUS_RES_UNIQUE = 42,
    GEARMAN_COMMAND_MAX = 43,
}

/// Signals for `gearman_kill` (`gearman_signal_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_signal_t {
    GEARMAN_SIGNAL_CHECK = 0,
    GEARMAN_SIGNAL_INTERRUPT = 1,
    GEARMAN_SIGNAL_KILL = 2,
    GEARMAN_SIGNAL_KILLWAIT = 3,
}

/// Upstream alias enumerator (`GEARMAN_INTERRUPT = GEARMAN_SIGNAL_INTERRUPT`).
pub const GEARMAN_INTERRUPT: gearman_signal_t = gearman_signal_t::GEARMAN_SIGNAL_INTERRUPT;
/// Upstream alias enumerator (`GEARMAN_KILL = GEARMAN_SIGNAL_KILL`).
pub const GEARMAN_KILL: gearman_signal_t = gearman_signal_t::GEARMAN_SIGNAL_KILL;

/// Kinds of worker function (`gearman_function_kind_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_function_kind_t {
    GEARMAN_WORKER_FUNCTION_NULL = 0,
    GEARMAN_WORKER_FUNCTION_V1 = 1,
    GEARMAN_WORKER_FUNCTION_V2 = 2,
    GEARMAN_WORKER_FUNCTION_PARTITION = 3,
}

/// Kinds of task attribute (`gearman_task_attr_kind_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_task_attr_kind_t {
    GEARMAN_TASK_ATTR_FOREGROUND = 0,
    GEARMAN_TASK_ATTR_BACKGROUND = 1,
    GEARMAN_TASK_ATTR_EPOCH = 2,
}

/// Task states (`gearman_task_state_t`), named by `gearman_task_strstate`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_task_state_t {
    GEARMAN_TASK_STATE_NEW = 0,
    GEARMAN_TASK_STATE_SUBMIT = 1,
    GEARMAN_TASK_STATE_WORKLOAD = 2,
    GEARMAN_TASK_STATE_WORK = 3,
    GEARMAN_TASK_STATE_CREATED = 4,
    GEARMAN_TASK_STATE_DATA = 5,
    GEARMAN_TASK_STATE_WARNING = 6,
    GEARMAN_TASK_STATE_STATUS = 7,
    GEARMAN_TASK_STATE_COMPLETE = 8,
    GEARMAN_TASK_STATE_EXCEPTION = 9,
    GEARMAN_TASK_STATE_FAIL = 10,
    GEARMAN_TASK_STATE_FINISHED = 11,
}

/// How a task was created (`gearman_task_kind_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_task_kind_t {
    GEARMAN_TASK_KIND_ADD_TASK = 0,
    GEARMAN_TASK_KIND_EXECUTE = 1,
    GEARMAN_TASK_KIND_DO = 2,
}

/// Layout version of `gearman_status_t` (`gearman_status_version_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_status_version_t {
    GEARMAN_STATUS_V1 = 0,
}

/// Client states (`gearman_client_t`, client.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_client_t {
    GEARMAN_CLIENT_STATE_IDLE = 0,
    GEARMAN_CLIENT_STATE_NEW = 1,
    GEARMAN_CLIENT_STATE_SUBMIT = 2,
    GEARMAN_CLIENT_STATE_PACKET = 3,
}

/// Worker states (`gearman_worker_state_t`, worker.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_worker_state_t {
    GEARMAN_WORKER_STATE_START = 0,
    GEARMAN_WORKER_STATE_FUNCTION_SEND = 1,
    GEARMAN_WORKER_STATE_CONNECT = 2,
    GEARMAN_WORKER_STATE_GRAB_JOB_SEND = 3,
    GEARMAN_WORKER_STATE_GRAB_JOB_RECV = 4,
    GEARMAN_WORKER_STATE_PRE_SLEEP = 5,
}

/// Worker work-loop states (`gearman_worker_universal_t`, worker.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_worker_universal_t {
    GEARMAN_WORKER_WORK_UNIVERSAL_GRAB_JOB = 0,
    GEARMAN_WORKER_WORK_UNIVERSAL_FUNCTION = 1,
    GEARMAN_WORKER_WORK_UNIVERSAL_COMPLETE = 2,
    GEARMAN_WORKER_WORK_UNIVERSAL_FAIL = 3,
}

/// Connection receive states (`gearman_con_recv_t`, connection.h, public "for one client").
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_con_recv_t {
    GEARMAN_CON_RECV_UNIVERSAL_NONE = 0,
    GEARMAN_CON_RECV_UNIVERSAL_READ = 1,
    GEARMAN_CON_RECV_STATE_READ_DATA = 2,
}

/// Connection send states (`gearman_con_send_t`, connection.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_con_send_t {
    GEARMAN_CON_SEND_STATE_NONE = 0,
    GEARMAN_CON_SEND_UNIVERSAL_PRE_FLUSH = 1,
    GEARMAN_CON_SEND_UNIVERSAL_FORCE_FLUSH = 2,
    GEARMAN_CON_SEND_UNIVERSAL_FLUSH = 3,
    GEARMAN_CON_SEND_UNIVERSAL_FLUSH_DATA = 4,
}

/// Connection states (`gearman_con_universal_t`, connection.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_con_universal_t {
    GEARMAN_CON_UNIVERSAL_ADDRINFO = 0,
    GEARMAN_CON_UNIVERSAL_CONNECT = 1,
    GEARMAN_CON_UNIVERSAL_CONNECTING = 2,
    GEARMAN_CON_UNIVERSAL_CONNECTED = 3,
}

macro_rules! raw_enum {
    ($(#[$doc:meta])* $raw:ident => $enum:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $raw(pub c_uint);

        impl From<$enum> for $raw {
            fn from(value: $enum) -> Self {
                $raw(value as c_uint)
            }
        }

        impl PartialEq<$enum> for $raw {
            fn eq(&self, other: &$enum) -> bool {
                self.0 == *other as c_uint
            }
        }
    };
}

raw_enum!(
    /// A `gearman_verbose_t` as C passes it.
    RawVerbose => gearman_verbose_t
);
raw_enum!(
    /// A `gearman_job_priority_t` as C passes it.
    RawPriority => gearman_job_priority_t
);
raw_enum!(
    /// A `gearman_signal_t` as C passes it.
    RawSignal => gearman_signal_t
);
raw_enum!(
    /// A `gearman_function_kind_t` as stored in `gearman_function_t`.
    RawFunctionKind => gearman_function_kind_t
);
raw_enum!(
    /// A `gearman_task_attr_kind_t` as stored in `gearman_task_attr_t`.
    RawTaskAttrKind => gearman_task_attr_kind_t
);
raw_enum!(
    /// A `gearman_status_version_t` as stored in `gearman_status_t`.
    RawStatusVersion => gearman_status_version_t
);
raw_enum!(
    /// A `gearman_client_options_t` bit set as C passes it.
    RawClientOptions => gearman_client_options_t
);
raw_enum!(
    /// A `gearman_worker_options_t` bit set as C passes it.
    RawWorkerOptions => gearman_worker_options_t
);
raw_enum!(
    /// A `gearman_task_state_t` as C passes it.
    RawTaskState => gearman_task_state_t
);
