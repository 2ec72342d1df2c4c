<?php
// Background tasks and status tasks through runTasks(); prints one sorted line per event.
// Usage: php background_tasks.php PORT   (on a fresh server started with --job-handle-prefix=P)
$port = (int)$argv[1];
$c = new GearmanClient();
$c->addServer('127.0.0.1', $port);
$c->setTimeout(5000);
$ev = [];
$c->setCreatedCallback(function ($t) use (&$ev) {
    $ev[] = 'created ' . $t->unique() . ' ' . $t->jobHandle();
});
$c->setStatusCallback(function ($t) use (&$ev) {
    $ev[] = 'status ' . $t->jobHandle() . ' ' . ($t->isKnown() ? 'known' : 'unknown') . ' '
        . ($t->isRunning() ? 'running' : 'idle') . ' ' . $t->taskNumerator() . '/' . $t->taskDenominator();
});
$c->addTaskBackground('nobody', 'a', null, 'bg-a');
$ok1 = $c->runTasks();
$c->addTaskHighBackground('nobody', 'b', null, 'bg-b');
$ok2 = $c->runTasks();
$c->addTaskLowBackground('nobody', 'c', null, 'bg-c');
$ok3 = $c->runTasks();
$c->addTaskStatus('P:1');
$c->addTaskStatus('P:99');
$ok4 = $c->runTasks();
sort($ev);
foreach ($ev as $e) {
    echo $e, "\n";
}
echo 'runTasks ', json_encode([$ok1, $ok2, $ok3, $ok4]), "\n";
