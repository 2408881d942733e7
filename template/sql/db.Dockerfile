FROM postgres:16-alpine
# Runs once, when the data volume is first initialised.
COPY init_db.sql /docker-entrypoint-initdb.d/
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD ["pg_isready", "--username", "postgres"]
