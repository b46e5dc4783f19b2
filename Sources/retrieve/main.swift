import Neural
print("retrieve", BLASThreads.coreName)
