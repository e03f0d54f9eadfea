import NIOCore
import NIOPosix
import ServiceLifecycle
enum _P {}
