# job.pl: runs one task of `loom-spawn --engine parallel` where GNU
# parallel started it, as loom-spawn itself would: the task's command
# under /bin/sh -c (or its adapter, executed), in a process group of its
# own, its record on stdin, stdout and stderr into files, a timeout with
# TERM, a grace period and KILL.  Its one argument is the job's number.
#
# On the machine loom-spawn runs on, the job reads its description from
# $LOOM_ENGINE_DIR/NUMBER and writes "NUMBER WAITSTATUS TIMEDOUT" to the
# descriptor $LOOM_ENGINE_FD when the task has ended.  Elsewhere (over
# ssh) the description and the files the task reads come on stdin, and
# the output, the log and that line go back on stdout; see ssh.pl.
# Task data only ever reaches a shell as the argument of /bin/sh -c.
# loom-spawn passes this file to perl -e hex-encoded: GNU parallel would
# take its braces for replacement strings.
# It loads no module unless it needs one: each costs milliseconds on
# every task.
use strict;

sub WNOHANG () { 1 }	# Linux, and the BSDs

# Seconds, with a fraction once Time::HiRes is needed (a timeout, a
# stop); whole seconds suffice to tell how long the task ran.
my $hires;
sub now { return $hires ? Time::HiRes::time() : time; }
sub hires { $hires ||= require Time::HiRes; }

my $n = $ARGV[0];
my ($local, $spec);

sub fields { return split /\0/, $_[0], -1; }

sub readn {
	my ($fh, $len) = @_;
	my ($buf, $got) = ('', 0);
	while ($got < $len) {
		my $r = read($fh, $buf, $len - $got, $got);
		die "loom job: short input\n" unless $r;
		$got += $r;
	}
	return $buf;
}

my $edir = $ENV{LOOM_ENGINE_DIR};
my $donefd = $ENV{LOOM_ENGINE_FD};
$local = defined $edir && -f "$edir/$n";

# How the task ended: a line for loom-spawn here, the output, the log
# and the line over ssh.
sub report {
	my ($ws, $timedout, $out, $err) = @_;
	if ($local) {
		open(my $done, '>&=', $donefd // 1) or die "loom job: $!\n";
		syswrite($done, "$n $ws $timedout\n");
		return;
	}
	binmode STDOUT;
	$| = 1;
	for my $what (['OUT', $out], ['ERR', $err]) {
		my $data = '';
		if (defined $what->[1] && open(my $i, '<', $what->[1])) {
			binmode $i;
			local $/;
			$data = <$i> // '';
			close $i;
		}
		print $what->[0], ' ', length($data), "\n", $data;
	}
	print "END $ws $timedout\n";
}

my $tmp;
eval { run(); 1 } or do {
	print STDERR $@;
	report(127 << 8, 0, undef, undef);
};
if (defined $tmp) {
	chdir('/');
	require File::Path;
	File::Path::remove_tree($tmp);
}
exit 0;

sub run {
if ($local) {
	$local = 1;
	open(my $f, '<', "$edir/$n") or die "loom job: $edir/$n: $!\n";
	local $/;
	$spec = <$f>;
	close $f;
} else {
	binmode STDIN;
	my $head = <STDIN>;
	die "loom job: no description on stdin\n"
	    unless defined $head && $head =~ /^LOOM1 (\d+)\n\z/;
	$spec = readn(\*STDIN, $1);
}

my @f = fields($spec);
die "loom job: bad description\n" unless shift(@f) eq 'LOOM1';
my ($out, $err, $timeout, $grace, $mode, $cmd, $rec) = splice(@f, 0, 7);
my @env = splice(@f, 0, shift @f);
my @renv = splice(@f, 0, shift @f);
my @files = splice(@f, 0, 2 * shift @f);

if (!$local) {
	# Out of the group GNU parallel's remote wrapper signals when its
	# sshd goes: it sends KILL a third of a second after TERM, which
	# would leave the task (a group of its own) and this directory
	# behind.  The end of stdin (below) is our stop instead.
	setpgrp(0, 0);
	# A directory of our own; the task's tree is under w/, its output
	# and log beside.
	my $base = $ENV{TMPDIR} || '/tmp';
	for (my $i = 0; ; $i++) {
		$tmp = sprintf('%s/loom-job-%d-%d', $base, $$, $i);
		last if mkdir($tmp, 0700);
		die "loom job: $tmp: $!\n" if $i > 100;
	}
	mkdir("$tmp/w") or die "loom job: $tmp/w: $!\n";
	for (my $i = 0; $i < @files; $i += 2) {
		my $len = <STDIN>;
		die "loom job: short input\n" unless defined $len;
		chomp $len;
		next if $len eq '-';
		my $data = readn(\*STDIN, $len);
		die "loom job: bad path\n" if $files[$i + 1] =~ m{^/|(^|/)\.\.(/|$)};
		my $p = "$tmp/w/$files[$i + 1]";
		my $d = '';
		for my $c (split m{/}, $files[$i + 1]) {
			mkdir("$tmp/w$d") if $d ne '';
			$d .= "/$c";
		}
		open(my $o, '>', $p) or die "loom job: $p: $!\n";
		binmode $o;
		print $o $data;
		close $o;
	}
	chdir("$tmp/w") or die "loom job: $tmp/w: $!\n";
	$out = "$tmp/out";
	$err = "$tmp/err";
	@env = @renv;
}
delete $ENV{LOOM_ENGINE_DIR};
delete $ENV{LOOM_ENGINE_FD};
for (@env) {
	my ($k, $v) = split /=/, $_, 2;
	$ENV{$k} = $v;
}

# The record goes to the task's stdin through a pipe, as under loom-spawn;
# what does not fit in the pipe is written by a child of our own.
pipe(my $in_r, my $in_w) or die "loom job: pipe: $!\n";
pipe(my $wake_r, my $wake_w) or die "loom job: pipe: $!\n";
my $stop;
$SIG{CHLD} = sub { syswrite($wake_w, 'c'); };
$SIG{PIPE} = 'IGNORE';
for my $s (qw(TERM INT HUP)) {
	$SIG{$s} = sub { $stop ||= $s; syswrite($wake_w, 's'); };
}

my $pid = fork;
die "loom job: fork: $!\n" unless defined $pid;
if ($pid == 0) {
	setpgrp(0, 0);
	$SIG{$_} = 'DEFAULT' for qw(CHLD PIPE TERM INT HUP);
	if ($local && defined $donefd && open(my $d, '>&=', $donefd)) {
		close $d;
	}
	close $in_w;
	open(STDIN, '<&', $in_r) or exit 127;
	open(STDOUT, '>', $out) or exit 127;
	open(STDERR, '>>', $err) or exit 127;
	if ($mode eq 'exec') {
		exec { $cmd } $cmd;
	} else {
		exec { '/bin/sh' } 'sh', '-c', $cmd;
	}
	my $missing = $! == 2;	# ENOENT, without loading Errno
	print STDERR "loom-spawn: $cmd: ",
	    ($missing ? "not found" : "cannot run it"), "\n";
	exit($missing ? 127 : 126);
}
close $in_r;
# An empty pipe takes 64 KiB without blocking; more is written by a
# child of our own, in case the task never reads it.
if (length($rec) <= 65536) {
	syswrite($in_w, $rec);
} else {
	my $feeder = fork;
	if (defined $feeder && $feeder == 0) {
		syswrite($in_w, $rec);
		exit 0;
	}
}
close $in_w;

# Over ssh, stdin stays open while loom-spawn's side of the connection
# lives (ssh.pl holds it): its end is a stop, and GNU parallel's own
# watch of its ssh would take seconds and leave the directory behind.
my $conn = !$local;
my ($ws, $timedout, $sent) = (undef, 0, 0);
hires() if $timeout > 0;
my $deadline = $timeout > 0 ? now() + $timeout : 0;
my $killat = 0;
for (;;) {
	my $r = waitpid($pid, WNOHANG);
	if ($r == $pid) {
		$ws = $?;
		last;
	}
	hires() if $stop;
	my $now = now();
	if ($stop && !$sent) {
		$sent = 1;
		kill $stop, -$pid;
		$killat ||= $now + $grace;
	}
	if ($deadline && $now >= $deadline) {
		$deadline = 0;
		$timedout = 1;
		kill 'TERM', -$pid;
		$killat = $now + $grace;
	}
	if ($killat && $now >= $killat) {
		$killat = 0;
		kill 'KILL', -$pid;
	}
	my $wait;
	for my $t ($deadline, $killat) {
		$wait = $t - $now if $t && (!defined $wait || $t - $now < $wait);
	}
	$wait = 0 if defined $wait && $wait < 0;
	# Perl runs a signal's handler between two of its steps: one that
	# comes just before select(2) is not there to wake it.  Look again
	# now and then.
	$wait = 0.05 if !defined $wait || $wait > 0.05;
	my $rin = '';
	vec($rin, fileno($wake_r), 1) = 1;
	vec($rin, fileno(STDIN), 1) = 1 if $conn;
	next unless select(my $rout = $rin, undef, undef, $wait) > 0;
	sysread($wake_r, my $buf, 256) if vec($rout, fileno($wake_r), 1);
	if ($conn && vec($rout, fileno(STDIN), 1) &&
	    !sysread(STDIN, my $more, 4096)) {
		$conn = 0;
		$stop ||= 'TERM';
	}
}
# Whatever the task left in its group goes with it when it was ended.
kill 'KILL', -$pid if $timedout || $stop;
while (waitpid(-1, WNOHANG) > 0) {}

report($ws, $timedout, $out, $err);
}
