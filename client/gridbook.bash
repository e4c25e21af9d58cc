# bash completion for gridbook, gridbook-syncd and gridbook-hq.
# Commands, kinds, verbs and options are read from the programs' own
# --help, so the completion never lists what the programs do not take.

# The words of "  word  text" lines of a help text (commands and kinds).
_gridbook_words() {
	"$@" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z_-]*\) .*/\1/p'
}

# The --options a help text shows.
_gridbook_opts() {
	"$@" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u
}

_gridbook() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]} i=1 words=()
	COMPREPLY=()
	case $prev in
	--db|-o|--output|--log|--cacert|--tls-cert|--tls-key)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--keep)
		COMPREPLY=($(compgen -W "mine theirs" -- "$cur"))
		return ;;
	esac
	# The words before the cursor that are not options or their values.
	while [ $i -lt "$COMP_CWORD" ]; do
		case ${COMP_WORDS[i]} in
		--db|--store) i=$((i + 1)) ;;
		-*) ;;
		*) words+=("${COMP_WORDS[i]}") ;;
		esac
		i=$((i + 1))
	done
	if [ "$prog" = gridbook-syncd ]; then
		COMPREPLY=($(compgen -W "$(_gridbook_opts gridbook-syncd)" -- "$cur"))
		return
	fi
	if [ ${#words[@]} -eq 0 ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--db --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_gridbook_words "$prog")" -- "$cur"))
		fi
		return
	fi
	if [ "$prog" = gridbook ] && [ ${#words[@]} -eq 1 ] && [[ $cur != -* ]] &&
		gridbook "${words[0]}" --help 2>/dev/null | grep -q '^verbs:'; then
		COMPREPLY=($(compgen -W "add edit void list show history" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_gridbook_opts "$prog" "${words[@]}")" -- "$cur"))
		return
	fi
	# gridbook conflicts RECORD-ID FIELD: the records and fields in conflict.
	if [ "$prog" = gridbook ] && [ "${words[0]}" = conflicts ]; then
		local key=id
		[ ${#words[@]} -eq 2 ] && key=field
		[ ${#words[@]} -le 2 ] && COMPREPLY=($(compgen -W "$(gridbook conflicts \
			--format json 2>/dev/null | grep -o "\"$key\":\"[^\"]*\"" |
			cut -d'"' -f4 | sort -u)" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _gridbook gridbook gridbook-syncd gridbook-hq
