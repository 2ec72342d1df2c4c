<?php
// The worker half of the PHP differential test: GearmanWorker::addFunction / work /
// setTimeout, and every GearmanJob send method. Runs until a "php_quit" job, printing what
// each job saw and what each work() call returned.
require __DIR__ . '/common.php';

// setTimeout + work() with nothing to do: false, returnCode GEARMAN_TIMEOUT, no warning.
$idle = new GearmanWorker();
out('idle timeout default: ' . show($idle->timeout()));
out('idle addServer: ' . show($idle->addServer($HOST, $PORT)));
out('idle addFunction: ' . show($idle->addFunction('php_nothing', function ($job) {
    return 'never';
})));
$idle->setTimeout(300);
out('idle timeout: ' . show($idle->timeout()));
out('idle work: ' . show($idle->work()) . ' rc=' . rc_name($idle->returnCode()));
unset($idle);

$quit = false;
function job_line($tag, GearmanJob $job)
{
    out("$tag: fn=" . $job->functionName() . ' unique=' . mask_unique($job->unique())
        . ' workload=' . show($job->workload()) . ' size=' . $job->workloadSize()
        . ' handle=' . mask_handle($job->handle()));
}

$functions = [
    'reverse' => function (GearmanJob $job) {
        job_line('reverse', $job);
        return strrev($job->workload());
    },
    'chunks' => function (GearmanJob $job) {
        job_line('chunks', $job);
        out('  sendData: ' . show($job->sendData('d1')));
        out('  sendStatus: ' . show($job->sendStatus(1, 2)));
        out('  sendWarning: ' . show($job->sendWarning('w1')));
        out('  sendData: ' . show($job->sendData('d2')));
        return 'done';
    },
    'fail' => function (GearmanJob $job) {
        job_line('fail', $job);
        out('  sendFail: ' . show($job->sendFail()));
        return null;
    },
    'set_return_fail' => function (GearmanJob $job) {
        job_line('set_return_fail', $job);
        $job->setReturn(GEARMAN_WORK_FAIL);
        return 'ignored';
    },
    'exception' => function (GearmanJob $job) {
        job_line('exception', $job);
        out('  sendException: ' . show($job->sendException('boom')));
        $job->setReturn(GEARMAN_WORK_EXCEPTION);
        return null;
    },
    'complete_early' => function (GearmanJob $job) {
        job_line('complete_early', $job);
        out('  sendComplete: ' . show($job->sendComplete('early')));
        return 'late';
    },
    'unique' => function (GearmanJob $job) {
        job_line('unique', $job);
        return $job->unique();
    },
    // For concurrent tasks: no output, and work() returns true for each.
    'quiet_reverse' => function (GearmanJob $job) {
        return strrev($job->workload());
    },
    'quiet_fail' => function (GearmanJob $job) {
        $job->sendFail();
        return null;
    },
    'quiet_chunks' => function (GearmanJob $job) {
        $job->sendData('d1');
        $job->sendStatus(1, 2);
        $job->sendWarning('w1');
        $job->sendData('d2');
        return 'done';
    },
    'php_quit' => function (GearmanJob $job) {
        global $quit;
        $quit = true;
        return 'bye';
    },
];

$worker = new GearmanWorker();
out('error fresh: ' . show($worker->error()) . ' rc=' . rc_name($worker->returnCode()));
out('addServer: ' . show($worker->addServer($HOST, $PORT)));
foreach ($functions as $name => $fn) {
    if (!$worker->addFunction($name, $fn)) {
        out("addFunction $name failed");
    }
}
out('ready');
for ($i = 0; $i < 200 && !$quit; $i++) {
    $r = $worker->work();
    out('work -> ' . show($r) . ' rc=' . rc_name($worker->returnCode()));
}
out('error at end: ' . err_token($worker->error()));
