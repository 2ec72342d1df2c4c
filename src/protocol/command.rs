//! Packet types of the binary protocol and their argument layout.

/// Which way a packet travels: `\0REQ` to the server, `\0RES` from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Magic {
    Request,
    Response,
}

impl Magic {
    pub const REQUEST_BYTES: [u8; 4] = *b"\0REQ";
    pub const RESPONSE_BYTES: [u8; 4] = *b"\0RES";

    pub fn bytes(self) -> [u8; 4] {
        match self {
            Magic::Request => Self::REQUEST_BYTES,
            Magic::Response => Self::RESPONSE_BYTES,
        }
    }

    pub fn from_bytes(b: [u8; 4]) -> Option<Magic> {
        match b {
            Self::REQUEST_BYTES => Some(Magic::Request),
            Self::RESPONSE_BYTES => Some(Magic::Response),
            _ => None,
        }
    }
}

macro_rules! commands {
    ($($name:ident = $num:literal, $text:literal, $fields:literal, $data:literal;)*) => {
        /// Every packet type of the Gearman binary protocol (1..=42).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum Command {
            $($name = $num,)*
        }

        impl Command {
            /// All commands in numeric order.
            pub const ALL: &'static [Command] = &[$(Command::$name,)*];

            /// The command for a wire number, `None` for 0 and anything above 42.
            pub fn from_u32(n: u32) -> Option<Command> {
                match n {
                    $($num => Some(Command::$name),)*
                    _ => None,
                }
            }

            /// Upstream's name, as in `GEARMAN_COMMAND_<NAME>` and in PROTOCOL.
            pub fn name(self) -> &'static str {
                match self {
                    $(Command::$name => $text,)*
                }
            }

            /// Number of NUL-separated fields, not counting a trailing data blob.
            pub fn field_count(self) -> usize {
                match self {
                    $(Command::$name => $fields,)*
                }
            }

            /// Whether an opaque data blob (which may hold NULs) follows the fields.
            pub fn has_data(self) -> bool {
                match self {
                    $(Command::$name => $data,)*
                }
            }
        }
    };
}

commands! {
    CanDo = 1, "CAN_DO", 1, false;
    CantDo = 2, "CANT_DO", 1, false;
    ResetAbilities = 3, "RESET_ABILITIES", 0, false;
    PreSleep = 4, "PRE_SLEEP", 0, false;
    Unused = 5, "UNUSED", 0, false;
    Noop = 6, "NOOP", 0, false;
    SubmitJob = 7, "SUBMIT_JOB", 2, true;
    JobCreated = 8, "JOB_CREATED", 1, false;
    GrabJob = 9, "GRAB_JOB", 0, false;
    NoJob = 10, "NO_JOB", 0, false;
    JobAssign = 11, "JOB_ASSIGN", 2, true;
    WorkStatus = 12, "WORK_STATUS", 3, false;
    WorkComplete = 13, "WORK_COMPLETE", 1, true;
    WorkFail = 14, "WORK_FAIL", 1, false;
    GetStatus = 15, "GET_STATUS", 1, false;
    EchoReq = 16, "ECHO_REQ", 0, true;
    EchoRes = 17, "ECHO_RES", 0, true;
    SubmitJobBg = 18, "SUBMIT_JOB_BG", 2, true;
    Error = 19, "ERROR", 2, false;
    StatusRes = 20, "STATUS_RES", 5, false;
    SubmitJobHigh = 21, "SUBMIT_JOB_HIGH", 2, true;
    SetClientId = 22, "SET_CLIENT_ID", 1, false;
    CanDoTimeout = 23, "CAN_DO_TIMEOUT", 2, false;
    AllYours = 24, "ALL_YOURS", 0, false;
    WorkException = 25, "WORK_EXCEPTION", 1, true;
    OptionReq = 26, "OPTION_REQ", 1, false;
    OptionRes = 27, "OPTION_RES", 1, false;
    WorkData = 28, "WORK_DATA", 1, true;
    WorkWarning = 29, "WORK_WARNING", 1, true;
    GrabJobUniq = 30, "GRAB_JOB_UNIQ", 0, false;
    JobAssignUniq = 31, "JOB_ASSIGN_UNIQ", 3, true;
    SubmitJobHighBg = 32, "SUBMIT_JOB_HIGH_BG", 2, true;
    SubmitJobLow = 33, "SUBMIT_JOB_LOW", 2, true;
    SubmitJobLowBg = 34, "SUBMIT_JOB_LOW_BG", 2, true;
    SubmitJobSched = 35, "SUBMIT_JOB_SCHED", 7, true;
    SubmitJobEpoch = 36, "SUBMIT_JOB_EPOCH", 3, true;
    SubmitReduceJob = 37, "SUBMIT_REDUCE_JOB", 4, true;
    SubmitReduceJobBackground = 38, "SUBMIT_REDUCE_JOB_BACKGROUND", 4, true;
    GrabJobAll = 39, "GRAB_JOB_ALL", 0, false;
    JobAssignAll = 40, "JOB_ASSIGN_ALL", 4, true;
    GetStatusUnique = 41, "GET_STATUS_UNIQUE", 1, false;
    StatusResUnique = 42, "STATUS_RES_UNIQUE", 6, false;
}

impl Command {
    /// Number of arguments a decoded packet of this type carries (fields plus the data blob).
    pub fn arg_count(self) -> usize {
        self.field_count() + usize::from(self.has_data())
    }

    /// Whether the server sends this type (`\0RES`); clients and workers send the others.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            Command::Noop
                | Command::JobCreated
                | Command::NoJob
                | Command::JobAssign
                | Command::EchoRes
                | Command::Error
                | Command::StatusRes
                | Command::OptionRes
                | Command::JobAssignUniq
                | Command::JobAssignAll
                | Command::StatusResUnique
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        assert_eq!(Command::ALL.len(), 42);
        for (i, c) in Command::ALL.iter().enumerate() {
            assert_eq!(*c as u32, i as u32 + 1);
            assert_eq!(Command::from_u32(*c as u32), Some(*c));
        }
        assert_eq!(Command::from_u32(0), None);
        assert_eq!(Command::from_u32(43), None);
    }

    #[test]
    fn reduce_has_four_fields() {
        assert_eq!(Command::SubmitReduceJob.field_count(), 4);
        assert!(Command::SubmitReduceJob.has_data());
        assert_eq!(Command::SubmitJobSched.arg_count(), 8);
    }
}
