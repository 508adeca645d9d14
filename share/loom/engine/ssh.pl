# ssh.pl: the ssh command GNU parallel runs for `loom-spawn --engine
# parallel --sshlogin ...`.  A job's ssh (PARALLEL_SEQ set, the job's
# description in $LOOM_ENGINE_DIR) gets on its stdin the description and
# the files the task reads (the plan, its dependencies' outputs); what
# comes back (the task's output, its log, how it ended; see job.pl) goes
# into the local files, and "NUMBER WAITSTATUS TIMEDOUT" to the
# descriptor $LOOM_ENGINE_FD, at once: GNU parallel would tell of the
# end only when it next reads its input.  Any other ssh runs as it is.
use strict;
use warnings;

my $n = $ENV{PARALLEL_SEQ};
my $edir = $ENV{LOOM_ENGINE_DIR};
my $ssh = 'ssh';
if (!defined $n || !defined $edir || $n !~ /^\d+$/ || !-f "$edir/$n" ||
    !grep({ /^GNU_Parallel_worker/ } @ARGV)) {
	exec { $ssh } $ssh, @ARGV;
	die "loom ssh: $ssh: $!\n";
}

open(my $f, '<', "$edir/$n") or die "loom ssh: $edir/$n: $!\n";
my $spec = do { local $/; <$f> };
close $f;
my @f = split /\0/, $spec, -1;
my (undef, $out, $err) = @f;
my @rest = @f[8 .. $#f];
splice(@rest, 0, 1 + $rest[0]);		# the local environment
splice(@rest, 0, 1 + $rest[0]);		# the remote one
my $nfiles = shift @rest;

$SIG{PIPE} = 'IGNORE';
pipe(my $to_r, my $to_w) or die "loom ssh: pipe: $!\n";
pipe(my $from_r, my $from_w) or die "loom ssh: pipe: $!\n";
my $pid = fork;
die "loom ssh: fork: $!\n" unless defined $pid;
if ($pid == 0) {
	close $to_w;
	close $from_r;
	open(STDIN, '<&', $to_r) or exit 255;
	open(STDOUT, '>&', $from_w) or exit 255;
	open(STDERR, '>>', $err) or exit 255;
	{ no warnings 'exec'; exec { $ssh } $ssh, @ARGV; }
	print STDERR "loom ssh: $ssh: $!\n";
	exit 255;
}
close $to_r;
close $from_w;

# The stream is written by a child, so that a task that answers before
# it has read everything cannot stop us both.
my $feeder = fork;
if (defined $feeder && $feeder == 0) {
	close $from_r;
	binmode $to_w;
	print $to_w 'LOOM1 ', length($spec), "\n", $spec;
	for (my $i = 0; $i < $nfiles; $i++) {
		my $p = $rest[2 * $i];
		if (open(my $i, '<', $p)) {
			binmode $i;
			local $/;
			my $data = <$i> // '';
			print $to_w length($data), "\n", $data;
		} else {
			print $to_w "-\n";
		}
	}
	close $to_w;
	exit 0;
}
# Our end of the job's stdin stays open until the job has answered: the
# job takes its end (this process killed by a stop, or ssh gone) for a
# stop of its task.

binmode $from_r;
my ($ws, $timedout);
while (my $line = <$from_r>) {
	if ($line =~ /^(OUT|ERR) (\d+)\n\z/) {
		my ($what, $len, $data) = ($1, $2, '');
		while (length($data) < $len) {
			my $r = read($from_r, $data, $len - length($data),
			    length($data));
			last unless $r;
		}
		open(my $o, $what eq 'OUT' ? '>' : '>>',
		    $what eq 'OUT' ? $out : $err) or next;
		binmode $o;
		print $o $data;
		close $o;
	} elsif ($line =~ /^END (\d+) ([01])\n\z/) {
		($ws, $timedout) = ($1, $2);
	}
}
close $from_r;
close $to_w;
waitpid($pid, 0);
my $sshws = $?;
waitpid($feeder, 0) if $feeder;
# No end line: ssh or the job on the far side failed; say it exited 255.
($ws, $timedout) = ($sshws & 0xff00 ? $sshws : 255 << 8, 0)
    unless defined $ws;
open(my $done, '>&=', $ENV{LOOM_ENGINE_FD} // 1) or die "loom ssh: $!\n";
syswrite($done, "$n $ws $timedout\n");
exit 0;
