<?php
// A PHP (php-gearman on libgearman) worker for the interop tests.
// Usage: php worker.php PORT
// Functions:
//   reverse  - returns the workload reversed
//   chatty   - sends data, a warning and a status, then returns "done:<workload>"
//   failing  - fails the job
//   throwing - sends an exception "boom:<workload>" (then fails the job, as the C API does)
//   whoami   - returns "<function>|<unique>|<workload>"
$port = (int)$argv[1];
$w = new GearmanWorker();
$w->addServer('127.0.0.1', $port);
$w->setId('php-worker');
$w->addFunction('reverse', function (GearmanJob $job) {
    return strrev($job->workload());
});
$w->addFunction('chatty', function (GearmanJob $job) {
    $job->sendData('d1');
    $job->sendWarning('w1');
    $job->sendStatus(1, 2);
    $job->sendData('d2');
    return 'done:' . $job->workload();
});
$w->addFunction('failing', function (GearmanJob $job) {
    $job->sendFail();
    return '';
});
$w->addFunction('throwing', function (GearmanJob $job) {
    $job->sendException('boom:' . $job->workload());
    return '';
});
$w->addFunction('whoami', function (GearmanJob $job) {
    return $job->functionName() . '|' . $job->unique() . '|' . $job->workload();
});
fwrite(STDOUT, "ready\n");
while ($w->work()) {
}
fwrite(STDERR, "worker stopped: " . $w->returnCode() . " " . $w->error() . "\n");
exit(1);
