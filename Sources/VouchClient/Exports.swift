// `import VouchClient` is enough to use the client: the types of its calls
// (UserRecord, UserSelector, Status, ...) and SecretBytes come with it.
@_exported import VouchProtocol
@_exported import VouchSecrets
