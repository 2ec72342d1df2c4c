<?php
// The client half of the PHP differential test: GearmanClient doNormal/doHigh/doLow/
// doBackground, jobStatus, setTimeout, returnCode()/error(), addTask* + runTasks with every
// callback, against worker.php. Ends by sending the "php_quit" job.
require __DIR__ . '/common.php';

function client($timeout = 10000)
{
    global $HOST, $PORT;
    $c = new GearmanClient();
    if (!$c->addServer($HOST, $PORT)) {
        out('addServer failed');
        exit(2);
    }
    $c->setTimeout($timeout);
    return $c;
}

function state(GearmanClient $c)
{
    return 'rc=' . rc_name($c->returnCode()) . ' error=' . err_token($c->error());
}

// After runTasks, error() is GEARMAN_IO_WAIT or GEARMAN_UNKNOWN_STATE depending on whether
// a read found nothing to read yet: timing, so only the return code is printed.
function rc_only(GearmanClient $c)
{
    return 'rc=' . rc_name($c->returnCode());
}

function wait_done(GearmanClient $c, $handle)
{
    for ($i = 0; $i < 500; $i++) {
        $st = $c->jobStatus($handle);
        if (!$st[0]) {
            return $st;
        }
        usleep(10000);
    }
    return $st;
}

out('== fresh client');
$c = new GearmanClient();
out('error=' . show($c->error()) . ' rc=' . rc_name($c->returnCode()) . ' timeout=' . show($c->timeout()));
out('addServer: ' . show($c->addServer($HOST, $PORT)));
out('after addServer: ' . state($c));
out('ping: ' . show($c->ping('hello')) . ' ' . state($c));
$c->setTimeout(10000);
out('timeout: ' . show($c->timeout()));

out('== do');
out('doNormal reverse: ' . show($c->doNormal('reverse', 'hello')) . ' ' . state($c));
out('doHigh reverse: ' . show($c->doHigh('reverse', 'high')) . ' ' . state($c));
out('doLow reverse: ' . show($c->doLow('reverse', 'low')) . ' ' . state($c));
out('doNormal chunks: ' . show($c->doNormal('chunks', 'c')) . ' ' . state($c));
out('doNormal fail: ' . show($c->doNormal('fail', 'f')) . ' ' . state($c));
out('doNormal set_return_fail: ' . show($c->doNormal('set_return_fail', 'f')) . ' ' . state($c));
out('doNormal exception: ' . show($c->doNormal('exception', 'e')) . ' ' . state($c));
out('doNormal complete_early: ' . show($c->doNormal('complete_early', 'x')) . ' ' . state($c));
out('doNormal unique given: ' . show($c->doNormal('unique', 'x', 'php-unique')) . ' ' . state($c));
out('doNormal unique #: ' . show($c->doNormal('unique', 'abc', '#')) . ' ' . state($c));
out('doNormal unique none: ' . mask_unique($c->doNormal('unique', 'x')) . ' ' . state($c));
// 1.1.20: PHP passes a non-NULL empty string, which the library rejects (abi.md Q3).
out('doNormal empty workload: ' . show($c->doNormal('reverse', '')) . ' ' . state($c));

out('== background and status');
$h = $c->doBackground('reverse', 'bg');
out('doBackground: ' . mask_handle($h) . ' ' . state($c));
out('doJobHandle matches: ' . show($c->doJobHandle() === $h));
out('jobStatus finished: ' . json_encode(wait_done($c, $h)));
$h = $c->doBackground('nobody', 'q', 'queued-unique');
out('doBackground nobody: ' . mask_handle($h) . ' ' . state($c));
out('jobStatus queued: ' . json_encode($c->jobStatus($h)) . ' ' . state($c));
$h2 = $c->doHighBackground('nobody', 'qh');
out('doHighBackground: ' . mask_handle($h2) . ' ' . state($c));
$h3 = $c->doLowBackground('nobody', 'ql');
out('doLowBackground: ' . mask_handle($h3) . ' ' . state($c));
out('jobStatus unknown: ' . json_encode($c->jobStatus('H:no-such-host:1')));
// A client of its own: 1.1.20 wedges a client after a status-by-unique request.
$u = client();
out('jobStatusByUniqueKey queued: ' . json_encode($u->jobStatusByUniqueKey('queued-unique')));
unset($u);

out('== timeout');
$t = client(300);
out('doNormal nobody: ' . show($t->doNormal('nobody', 'x')) . ' ' . state($t));
unset($t);

out('== tasks, one at a time, every callback');
$events = [];
function ev($name)
{
    return function (GearmanTask $task, $context = null) use ($name) {
        global $events;
        // A status task's function name is its job handle.
        $fn = $task->functionName() === $task->jobHandle() ? '<handle>' : $task->functionName();
        $line = "$name(ctx=" . show($context) . " fn=$fn"
            . ' unique=' . mask_unique($task->unique())
            . ' handle=' . mask_handle($task->jobHandle())
            . ' known=' . show($task->isKnown()) . ' running=' . show($task->isRunning())
            . ' ' . $task->taskNumerator() . '/' . $task->taskDenominator()
            . ' data=' . show($task->data()) . ' size=' . $task->dataSize()
            . ' rc=' . rc_name($task->returnCode()) . ')';
        $events[$context ?? 'none'][] = $line;
        if ($name === 'created') {
            // The extension frees finished tasks (GEARMAN_CLIENT_FREE_TASKS): a background
            // task's handle is only available inside its callbacks.
            $GLOBALS['created_handle'] = $task->jobHandle();
        }
    };
}
$c->setCreatedCallback(ev('created'));
$c->setDataCallback(ev('data'));
$c->setWarningCallback(ev('warning'));
$c->setStatusCallback(ev('status'));
$c->setCompleteCallback(ev('complete'));
$c->setFailCallback(ev('fail'));
$c->setExceptionCallback(ev('exception'));
$one = [
    ['addTask', 'chunks', 'x', 'chunks'],
    ['addTaskHigh', 'reverse', 'abc', 'high'],
    ['addTaskLow', 'reverse', 'low', 'low'],
    ['addTask', 'fail', 'f', 'fail'],
    ['addTask', 'exception', 'e', 'exception'],
    ['addTaskBackground', 'reverse', 'bg', 'background'],
    ['addTaskHighBackground', 'reverse', 'hbg', 'high-background'],
    ['addTaskLowBackground', 'reverse', 'lbg', 'low-background'],
];
foreach ($one as [$method, $fn, $workload, $ctx]) {
    $events = [];
    $task = $c->$method($fn, $workload, $ctx);
    out("$method $fn: task=" . get_class($task) . ' ' . rc_only($c));
    out('  runTasks: ' . show($c->runTasks()) . ' ' . rc_only($c));
    foreach ($events[$ctx] ?? [] as $line) {
        out("  $line");
    }
    if (strpos($method, 'Background') !== false) {
        // Done before the next task, so the worker's log order does not depend on timing.
        out('  jobStatus when done: ' . json_encode(wait_done($c, $created_handle)));
    }
}

out('== status task');
$events = [];
$task = $c->addTaskStatus($h, 'status');
out('addTaskStatus: ' . get_class($task));
out('  runTasks: ' . show($c->runTasks()) . ' ' . rc_only($c));
foreach ($events['status'] ?? [] as $line) {
    out("  $line");
}

out('== several tasks at once');
$events = [];
// The quiet_* functions print nothing in the worker (which of them runs first is timing).
$c->addTask('quiet_reverse', 'one', 't1');
$c->addTaskHigh('quiet_reverse', 'two', 't2');
$c->addTask('quiet_fail', 'three', 't3');
$c->addTaskLow('quiet_chunks', 'four', 't4');
out('runTasks: ' . show($c->runTasks()) . ' ' . rc_only($c));
ksort($events);
foreach ($events as $ctx => $lines) {
    // Other tasks' callbacks interleave with these as the worker happens to run; per task
    // the order is fixed.
    foreach ($lines as $line) {
        out("  $line");
    }
}

out('== quit');
out('doLow php_quit: ' . show($c->doLow('php_quit', 'q')) . ' ' . state($c));
