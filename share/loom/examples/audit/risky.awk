# risky.awk: the scanner behind risky.sh.  Reads one C file (its name in
# the variable file, else $AUDIT_FILE) and prints one finding a line:
# severity, file, line, message and fix, separated by tabs.

# strip: the code of one line with comments removed and the contents of
# string and character constants dropped ("..." becomes "").  The state
# (inside a block comment or a string) carries over to the next line.
function strip(s,    out, i, n, c, d) {
	out = ""
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		d = substr(s, i + 1, 1)
		if (state == "comment") {
			if (c == "*" && d == "/") {
				state = ""
				i++
				out = out " "
			}
		} else if (state == "string" || state == "char") {
			if (c == "\\")
				i++
			else if ((state == "string" && c == "\"") ||
			    (state == "char" && c == "'")) {
				out = out c
				state = ""
			}
		} else if (c == "/" && d == "*") {
			state = "comment"
			i++
		} else if (c == "/" && d == "/") {
			break
		} else if (c == "\"") {
			state = "string"
			out = out c
		} else if (c == "'") {
			state = "char"
			out = out c
		} else
			out = out c
	}
	if (state == "char")
		state = ""
	if (state == "string" && substr(s, n, 1) != "\\")
		state = ""
	return out
}

function report(sev, msg, fix, line) {
	printf "%s\t%s\t%d\t%s\t%s\n", sev, file, line ? line : FNR, msg, fix
}

# call: where name( is called in s (0 when it is not); sets rest to what
# follows the opening parenthesis.  Declarations (only type words before
# the name) and members (a.name, p->name) do not count.
function call(s, name,    re, p, pre) {
	re = "(^|[^A-Za-z0-9_.>])" name "[ \t]*\\("
	if (!match(s, re))
		return 0
	p = RSTART
	if (substr(s, p, 1) != substr(name, 1, 1))
		p++
	pre = substr(s, 1, p - 1)
	rest = substr(s, RSTART + RLENGTH)
	if (pre ~ /^[ \t]*[A-Za-z_][A-Za-z0-9_ \t*]*[ \t*]$/ &&
	    pre !~ /^[ \t]*(return|else|do|case)[^A-Za-z0-9_]/)
		return 0
	return p
}

function quote_re(s,    out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (index("\\^$.[]|()*+?{}/", c))
			out = out "\\" c
		else
			out = out c
	}
	return out
}

# checked: whether text tests var against NULL (or returns it).
function checked(text, var,    v, e) {
	v = quote_re(var)
	e = "([^A-Za-z0-9_]|$)"
	return text ~ ("(!|==|!=)[ \t(]*" v e) ||
	    text ~ ("(^|[^A-Za-z0-9_>.])" v "[ \t)]*(==|!=|&&|\\|\\||\\?)") ||
	    text ~ ("(if|while|assert)[ \t]*\\([ \t(]*" v "[ \t)]*\\)") ||
	    text ~ ("(&&|\\|\\|)[ \t(]*" v "[ \t)]*(\\)|&&|\\|\\||$)") ||
	    text ~ ("return[ \t(]*" v "[ \t)]*;")
}

# Allocation results waiting for a check: variable, line and the call
# of each, and how many more code lines to watch it for.  The first
# line after the allocation that mentions the variable decides: a test
# against NULL (or returning it) is fine, any other use is a finding.  Not
# mentioned within 30 code lines, or by the end of the function: nothing
# is said.  sizeof does not count as a use.
function watch(s,    k, v, t) {
	for (k in pvar) {
		v = quote_re(pvar[k])
		t = s
		gsub("sizeof[ \t(]*\\*?[ \t]*" v, "", t)
		if (t ~ ("(^|[^A-Za-z0-9_])" v "([^A-Za-z0-9_]|$)")) {
			if (!checked(s, pvar[k]))
				report("low", palloc[k] "() result \"" pvar[k] \
				    "\" is used without checking for NULL",
				    "check \"" pvar[k] "\" against NULL " \
				    "before using it", pline[k])
			forget(k)
		} else if (--pleft[k] == 0)
			forget(k)
	}
}

function forget(k) {
	delete pvar[k]
	delete pline[k]
	delete palloc[k]
	delete pleft[k]
}

BEGIN {
	if (file == "")
		file = ENVIRON["AUDIT_FILE"]
	state = ""
	# a string constant, maybe split: "" "" (contents are dropped)
	str = "[ \t]*\"\"([ \t]*\"\")*[ \t]*"
	lit = "^" str
}

{
	s = strip($0)
	if (s ~ /^[ \t]*$/)
		next
	watch(s)
	if (s ~ /^}/)
		for (k in pvar)
			forget(k)

	if (call(s, "gets"))
		report("critical", "gets() reads a line with no bound on " \
		    "its length into a fixed buffer",
		    "use fgets(buf, sizeof buf, stdin)")
	if (call(s, "system")) {
		if (rest ~ (lit "\\)"))
			report("low", "system() runs a shell (the command " \
			    "is a constant)", "run the program with " \
			    "posix_spawn or fork and execv")
		else
			report("high", "system() runs a shell command built " \
			    "at run time: shell injection if any part comes " \
			    "from input", "run the program with posix_spawn " \
			    "or fork and execv and an argument vector")
	}
	if (call(s, "popen")) {
		if (rest ~ (lit ","))
			report("low", "popen() runs a shell (the command " \
			    "is a constant)", "use pipe, fork and execv")
		else
			report("high", "popen() runs a shell command built " \
			    "at run time: shell injection if any part comes " \
			    "from input", "use pipe, fork and execv with an " \
			    "argument vector")
	}
	if (call(s, "strcpy")) {
		if (rest ~ ("^[^,()]*," str "\\)"))
			report("info", "strcpy() of a constant string: safe " \
			    "only while the destination stays large enough",
			    "use snprintf(dst, sizeof dst, ...)")
		else
			report("medium", "strcpy() copies with no bound on " \
			    "the destination's size", "use snprintf(dst, " \
			    "sizeof dst, \"%s\", src) or strlcpy")
	}
	if (call(s, "strcat")) {
		if (rest ~ ("^[^,()]*," str "\\)"))
			report("info", "strcat() of a constant string: safe " \
			    "only while the destination stays large enough",
			    "track the length and use snprintf")
		else
			report("medium", "strcat() appends with no bound on " \
			    "the destination's size", "track the length " \
			    "and use snprintf or strlcat")
	}
	if (call(s, "sprintf"))
		report("medium", "sprintf() formats into a buffer with no " \
		    "bound on its size", "use snprintf(buf, sizeof buf, ...)")
	if (call(s, "vsprintf"))
		report("medium", "vsprintf() formats into a buffer with no " \
		    "bound on its size", "use vsnprintf(buf, sizeof buf, ...)")

	# x = malloc(...), x = (T *)calloc(...): x must be tested within
	# the next three code lines, unless the call is inside the test.
	if (match(s, "[A-Za-z_][A-Za-z0-9_.>\\[\\]-]*[ \t]*=[ \t]*" \
	    "(\\([^()]*\\)[ \t]*)?(malloc|calloc|realloc|strdup|strndup)" \
	    "[ \t]*\\(")) {
		a = substr(s, RSTART, RLENGTH)
		pre = substr(s, 1, RSTART - 1)
		post = substr(s, RSTART + RLENGTH)
		v = a
		sub(/[ \t]*=.*/, "", v)
		alloc = a
		sub(/[ \t]*\($/, "", alloc)
		sub(/.*[^a-z]/, "", alloc)
		# (x = malloc(n)) == NULL, the test maybe begun a line above
		if (pre ~ /\([ \t]*$/ && post ~ /(==|!=)[ \t]*(NULL|0)/)
			pre = pre "if ("
		if (pre !~ /(if|while)[ \t]*\(/ && !checked(post, v)) {
			pvar[FNR] = v
			pline[FNR] = FNR
			palloc[FNR] = alloc
			pleft[FNR] = 30
		}
	}
}

