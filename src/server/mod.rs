//! The job server (filled in by the server work).
