<?php
// GearmanWorker / GearmanJob API without a client: options, timeouts, registrations, ping,
// a timeout in work(), errors. Argument: the port of a running job server.
$port = (int)$argv[1];
function show($label, $value) { echo $label, ': ', var_export($value, true), "\n"; }
function token($e) { return preg_match('/GEARMAN_[A-Z_]+/', (string)$e, $m) ? $m[0] : var_export($e, true); }

$w = new GearmanWorker();
show('options', $w->options());
show('timeout', $w->timeout());
show('error', $w->error());
show('getErrno', $w->getErrno());
show('returnCode', $w->returnCode());
show('setOptions NON_BLOCKING', $w->setOptions(GEARMAN_WORKER_NON_BLOCKING));
show('options', $w->options());
show('addOptions GRAB_UNIQ', $w->addOptions(GEARMAN_WORKER_GRAB_UNIQ));
show('options', $w->options());
show('removeOptions NON_BLOCKING', $w->removeOptions(GEARMAN_WORKER_NON_BLOCKING));
show('options', $w->options());
show('setTimeout', $w->setTimeout(300));
show('timeout', $w->timeout());
show('options', $w->options());
show('setId', $w->setId('php-worker-1'));
show('addServer', $w->addServer('127.0.0.1', $port));
show('addServers', $w->addServers("127.0.0.1:$port"));
show('ping', $w->ping('hello'));
show('register', $w->register('php_fn', 5));
show('unregister', $w->unregister('php_fn'));
show('unregister again', @$w->unregister('php_fn'));
show('addFunction', $w->addFunction('php_fn', function ($job) { return strrev($job->workload()); }));
show('unregisterAll', $w->unregisterAll());
show('addFunction', $w->addFunction('php_fn', function ($job) { return strrev($job->workload()); }));
$r = @$w->work();
show('work (timeout)', $r);
show('returnCode', $w->returnCode());
show('error', token($w->error()));
$w2 = new GearmanWorker();
try {
    $w2->addServer('127.0.0.1', 1);
} catch (GearmanException $e) {
    show('addServer (server down)', $e->getMessage());
}
$w2->addFunction('php_fn', function ($job) { return 'x'; });
$r = @$w2->work();
show('work (server down)', $r);
show('returnCode', $w2->returnCode());
show('error', token($w2->error()));
$w3 = new GearmanWorker();
$r = @$w3->work();
show('work (nothing set up)', $r);
show('returnCode', $w3->returnCode());
