import ArgumentParser

/// Help exits 0, so it must never be mistaken for the answer of a command
/// that checks something: `vouchctl login -help` (a user named `-help`)
/// printed help and exited 0.  Help is `vouchctl help ...` or `--help` given
/// right after the command's name, before any operand or other option;
/// anything else that looks like a help flag is a usage error (exit 2).
/// Names that begin with '-' go after `--`.
enum HelpPlacement {
    /// The usage error for `args` (the command line without argv[0]), or nil.
    static func problem(_ args: [String]) -> String? {
        var command: any ParsableCommand.Type = VouchCtl.self
        var sawOperandOrOption = false
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" { return nil }
            if arg == "--help", !sawOperandOrOption { return nil }
            if arg == "--help" || arg == "-h" || arg == "-help" {
                let what = arg == "--help" ? "'--help' after an operand or option" : "'\(arg)'"
                return "\(what) is not a request for help: help is `--help` right after the command's name, "
                    + "or `vouchctl help COMMAND`; a name that begins with '-' goes after `--` "
                    + "(vouchctl login -- \(arg))"
            }
            if globalOptionsWithValue.contains(arg) {
                i += 2
                continue
            }
            if !isGlobalOptionWithInlineValue(arg) {
                if !sawOperandOrOption,
                    let sub = command.configuration.subcommands.first(where: { $0._commandName == arg })
                {
                    command = sub
                } else {
                    sawOperandOrOption = true
                }
            }
            i += 1
        }
        return nil
    }
}
