extension ReadOnlyCatalog {
    /// The secured-copies register, read from a catalog opened read-only (`skryba documents
    /// copies-register`): nothing is created, migrated or written.
    public func securedCopiesRegister() throws -> [SecuredCopy] {
        try audit.connection.read("reading the secured-copies register") { database in
            try SecuredCopies.copies(where: "1", [], in: database)
        }
    }
}
