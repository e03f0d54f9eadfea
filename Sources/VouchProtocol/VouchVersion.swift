/// The release of this vouch build (daemon, client and CLI share it).
public enum VouchVersion {
    public static let string = "0.1.0"
}
