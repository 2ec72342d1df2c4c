<?php
// Background submission and status query in separate steps, so the test can act in between.
// Usage: php status.php PORT submit FUNCTION WORKLOAD   -> prints the job handle
//        php status.php PORT status HANDLE              -> prints jobStatus() as JSON
$port = (int)$argv[1];
$c = new GearmanClient();
$c->addServer('127.0.0.1', $port);
$c->setTimeout(5000);
switch ($argv[2]) {
    case 'submit':
        $h = $c->doBackground($argv[3], $argv[4]);
        if ($c->returnCode() != GEARMAN_SUCCESS) {
            fwrite(STDERR, $c->error() . "\n");
            exit(1);
        }
        echo $h, "\n";
        break;
    case 'status':
        echo json_encode($c->jobStatus($argv[3])), "\n";
        break;
    default:
        exit(2);
}
