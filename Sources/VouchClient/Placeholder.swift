import NIOPosix
enum _P {}
