<?php
// Shared helpers of the PHP differential scripts (Debian's php8.2-gearman over
// libgearman.so.8). Output must not depend on the server's host name, handles, pids or
// timing: return codes are printed by name, handles and UUIDs masked, and warnings reduced
// to their GEARMAN_* token.

// gearman_return_t names of libgearman 1.1.20, by value.
const RC_NAMES = [
    'SUCCESS', 'IO_WAIT', 'SHUTDOWN', 'SHUTDOWN_GRACEFUL', 'ERRNO', 'EVENT', 'TOO_MANY_ARGS',
    'NO_ACTIVE_FDS', 'INVALID_MAGIC', 'INVALID_COMMAND', 'INVALID_PACKET', 'UNEXPECTED_PACKET',
    'GETADDRINFO', 'NO_SERVERS', 'LOST_CONNECTION', 'MEMORY_ALLOCATION_FAILURE', 'JOB_EXISTS',
    'JOB_QUEUE_FULL', 'SERVER_ERROR', 'WORK_ERROR', 'WORK_DATA', 'WORK_WARNING', 'WORK_STATUS',
    'WORK_EXCEPTION', 'WORK_FAIL', 'NOT_CONNECTED', 'COULD_NOT_CONNECT', 'SEND_IN_PROGRESS',
    'RECV_IN_PROGRESS', 'NOT_FLUSHING', 'DATA_TOO_LARGE', 'INVALID_FUNCTION_NAME',
    'INVALID_WORKER_FUNCTION', 'NO_REGISTERED_FUNCTION', 'NO_REGISTERED_FUNCTIONS', 'NO_JOBS',
    'ECHO_DATA_CORRUPTION', 'NEED_WORKLOAD_FN', 'PAUSE', 'UNKNOWN_STATE', 'PTHREAD', 'PIPE_EOF',
    'QUEUE_ERROR', 'FLUSH_DATA', 'SEND_BUFFER_TOO_SMALL', 'IGNORE_PACKET', 'UNKNOWN_OPTION',
    'TIMEOUT', 'ARGUMENT_TOO_LARGE', 'INVALID_ARGUMENT', 'IN_PROGRESS', 'INVALID_SERVER_OPTION',
    'JOB_NOT_FOUND',
];

function rc_name($rc)
{
    return isset(RC_NAMES[$rc]) ? 'GEARMAN_' . RC_NAMES[$rc] : "GEARMAN_MAX_RETURN($rc)";
}

// The GEARMAN_* token of an error string ('' and false shown as such).
function err_token($msg)
{
    if ($msg === false) {
        return 'false';
    }
    if ($msg === '' || $msg === null) {
        return "''";
    }
    if (preg_match('/GEARMAN_[A-Z_]+/', $msg, $m)) {
        return $m[0];
    }
    return '<message without code>';
}

function mask_handle($h)
{
    if (!is_string($h) || $h === '') {
        return var_export($h, true);
    }
    return '<handle>';
}

function mask_unique($u)
{
    if (is_string($u) && preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/', $u)) {
        return '<uuid>';
    }
    return var_export($u, true);
}

function show($v)
{
    if (is_string($v)) {
        return json_encode($v, JSON_UNESCAPED_SLASHES);
    }
    return var_export($v, true);
}

function out($line)
{
    echo $line, "\n";
}

// PHP warnings from the extension embed libgearman's message (with file:line and pid).
set_error_handler(function ($errno, $errstr) {
    $method = preg_match('/^([A-Za-z]+::[A-Za-z]+)\(\)/', $errstr, $m) ? $m[1] : '?';
    out("  WARNING $method: " . err_token($errstr));
    return true;
});

if ($argc < 3) {
    fwrite(STDERR, "usage: php {$argv[0]} host port\n");
    exit(64);
}
$HOST = $argv[1];
$PORT = (int) $argv[2];
