# TLS peers made of Perl's Gearman::Client / Gearman::Worker (Debian libgearman-client-perl),
# which use IO::Socket::SSL with peer verification (CA file, host name or IP address).
#   perl_peer.pl client PORT CA CERT KEY   runs "reverse" on "hello" and on 1 MB, prints "ok"
#   perl_peer.pl worker PORT CA CERT KEY   serves "reverse"; prints "ready" once registered
use strict;
use warnings;
use Gearman::Client;
use Gearman::Worker;

my ($mode, $port, $ca, $cert, $key) = @ARGV;
my $server = {
    host => '127.0.0.1', port => $port, use_ssl => 1,
    ca_file => $ca, cert_file => $cert, key_file => $key,
};
$| = 1;
if ($mode eq 'client') {
    my $client = Gearman::Client->new(job_servers => [$server]);
    my $r = $client->do_task('reverse', 'hello', { timeout => 20 });
    die "no result for hello\n" unless $r && $$r eq 'olleh';
    my $big = join('', map { chr($_ % 251) } 0 .. (1 << 20) - 1);
    $r = $client->do_task('reverse', $big, { timeout => 30 });
    die "wrong 1 MB result\n" unless $r && $$r eq scalar reverse $big;
    print "ok\n";
} elsif ($mode eq 'worker') {
    my $worker = Gearman::Worker->new(job_servers => [$server]);
    $worker->register_function(reverse => sub { scalar reverse $_[0]->arg });
    print "ready\n";
    $worker->work while 1;
} else {
    die "unknown mode $mode\n";
}
