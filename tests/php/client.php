<?php
// A PHP (php-gearman on libgearman) client for the interop tests; prints one line per fact.
// Usage: php client.php PORT
$port = (int)$argv[1];
$c = new GearmanClient();
$c->addServer('127.0.0.1', $port);
$c->setTimeout(5000);

function line($s) { fwrite(STDOUT, $s . "\n"); }

// Blocking calls at each priority.
line('normal ' . $c->doNormal('reverse', 'hello') . ' ' . $c->returnCode());
line('high ' . $c->doHigh('reverse', 'abc') . ' ' . $c->returnCode());
line('low ' . $c->doLow('reverse', 'xyz') . ' ' . $c->returnCode());
line('unique ' . $c->doNormal('whoami', 'payload', 'my-unique'));
line('failing [' . $c->doNormal('failing', 'x') . '] ' . ($c->returnCode() == GEARMAN_WORK_FAIL ? 'WORK_FAIL' : $c->returnCode()));

// Tasks with callbacks, run together.
$events = [];
$c->setCompleteCallback(function ($t) use (&$events) { $events[] = 'complete ' . $t->unique() . ' ' . $t->data(); });
$c->setDataCallback(function ($t) use (&$events) { $events[] = 'data ' . $t->unique() . ' ' . $t->data(); });
$c->setWarningCallback(function ($t) use (&$events) { $events[] = 'warning ' . $t->unique() . ' ' . $t->data(); });
$c->setStatusCallback(function ($t) use (&$events) { $events[] = 'status ' . $t->unique() . ' ' . $t->taskNumerator() . '/' . $t->taskDenominator(); });
$c->setFailCallback(function ($t) use (&$events) { $events[] = 'fail ' . $t->unique(); });
$c->setExceptionCallback(function ($t) use (&$events) { $events[] = 'exception ' . $t->unique() . ' ' . $t->data(); });
$c->addTask('chatty', 'c1', null, 'u-chatty');
$c->addTaskHigh('reverse', 'tsil', null, 'u-rev');
$c->addTaskLow('failing', 'f', null, 'u-fail');
$c->addTask('throwing', 't', null, 'u-throw');
$ok = $c->runTasks();
line('runTasks ' . ($ok ? 'true' : 'false'));
sort($events);
foreach ($events as $e) { line($e); }

// A background job for a function nobody serves, then its status.
$h = $c->doBackground('nobody', 'bg', 'u-bg');
line('background ' . ($c->returnCode() == GEARMAN_SUCCESS ? 'ok' : $c->returnCode()) . ' ' . (strlen($h) > 0 ? 'handle' : 'nohandle'));
$st = $c->jobStatus($h);
line('jobStatus ' . json_encode($st));
$st = $c->jobStatus('H:nowhere:1');
line('jobStatus unknown ' . json_encode($st));
line('handle ' . $h);
