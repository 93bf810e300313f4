package io.pgmux.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SqlClassifierTest {
    private static List<SessionEffect> classify(String sql) {
        return SqlClassifier.classify(sql);
    }

    /** The first look on a Query's wire bytes lets through everything that has an effect. */
    @Test
    void theByteLevelFirstLookMissesNoStatementWithAnEffect() {
        List<String> withEffects = List.of(
                "set statement_timeout to 5",
                "RESET ALL",
                "reset work_mem",
                "DISCARD ALL",
                "listen jobs",
                "UNLISTEN *",
                "CREATE TEMP TABLE t (a int)",
                "create temporary table t (a int)",
                "SELECT 1 INTO TEMP t",
                "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
                "CLOSE c",
                "PREPARE p AS SELECT 1",
                "DEALLOCATE p",
                "DROP TABLE t",
                "SELECT pg_advisory_lock(1)",
                "SELECT pg_catalog.pg_try_advisory_lock_shared(1)",
                "select 1;SET a=1",
                "/* x */SET a = 1",
                "SELECT 'é'; SET a = 1");
        for (String sql : withEffects) {
            assertFalse(classify(sql).isEmpty(), sql);
            assertTrue(firstLook(sql), sql);
        }
        assertFalse(firstLook("SELECT abalance FROM pgbench_accounts WHERE aid = 42"));
        // SET, PREPARE, DROP ... count only where a statement starts, unless a comment may hide that start
        assertFalse(firstLook("UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = 3"));
        assertFalse(firstLook("SELECT prepared, closed FROM reset_log WHERE dropped"));
        assertTrue(firstLook("  set a = 1"));
        assertTrue(firstLook("UPDATE t SET a = 1; RESET a"));
        assertTrue(firstLook("/* app */ SET a = 1"));
        assertTrue(firstLook("-- app\nSET a = 1"));
        assertFalse(firstLook("INSERT INTO offsets VALUES ('résumé')"));
        assertFalse(firstLook(""));
    }

    private static boolean firstLook(String sql) {
        ByteBuf wire = Unpooled.copiedBuffer("xx" + sql + "\0", StandardCharsets.UTF_8);
        try {
            return SqlClassifier.mayAffectSession(wire, 2, wire.writerIndex() - 1);
        } finally {
            wire.release();
        }
    }

    @Test
    void plainQueriesHaveNoEffect() {
        assertEquals(List.of(), classify("SELECT * FROM accounts WHERE id = 1"));
        assertEquals(List.of(), classify("UPDATE t SET a = 1"));
        assertEquals(List.of(), classify("SET LOCAL statement_timeout = 5"));
        assertEquals(List.of(), classify("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
    }

    @Test
    void setAndResetNameTheSetting() {
        assertEquals(List.of(new SessionEffect.Set("statement_timeout")), classify("set statement_timeout to 5"));
        assertEquals(List.of(new SessionEffect.Set("work_mem")), classify("SET SESSION work_mem = '8MB'"));
        assertEquals(List.of(new SessionEffect.Set("timezone")), classify("SET TIME ZONE 'UTC'"));
        assertEquals(List.of(new SessionEffect.Set("myapp.tenant")), classify("SET myapp.tenant = 7"));
        assertEquals(List.of(new SessionEffect.Reset("work_mem")), classify("RESET work_mem"));
    }

    @Test
    void everyStatementOfAMultiStatementQueryCounts() {
        assertEquals(
                List.of(new SessionEffect.Set("a"), new SessionEffect.Pin(PinReason.LISTEN, "jobs")),
                classify("SET a = 1; SELECT 'x;y'; LISTEN jobs;"));
    }

    @Test
    void commentsAndQuotedTextAreIgnored() {
        assertEquals(List.of(), classify("SELECT 'SET work_mem = 1' -- LISTEN x\n"));
        assertEquals(List.of(), classify("/* LISTEN /* nested */ x */ SELECT $$DISCARD ALL$$"));
        assertEquals(List.of(), classify("SELECT \"listen\" FROM t"));
    }

    @Test
    void roleAndAuthorizationPin() {
        assertEquals(List.of(new SessionEffect.Pin(PinReason.ROLE, "role")), classify("SET ROLE admin"));
        assertEquals(
                List.of(new SessionEffect.Pin(PinReason.ROLE, "session authorization")),
                classify("SET SESSION AUTHORIZATION bob"));
    }

    @Test
    void stateCreatingStatementsPin() {
        assertEquals(List.of(new SessionEffect.Pin(PinReason.TEMP_TABLE, "")), classify("CREATE TEMP TABLE x (a int)"));
        assertEquals(
                List.of(new SessionEffect.Pin(PinReason.TEMP_TABLE, "")),
                classify("create global temporary table x (a int)"));
        assertEquals(
                List.of(new SessionEffect.Pin(PinReason.HOLD_CURSOR, "c")),
                classify("DECLARE c CURSOR WITH HOLD FOR SELECT 1"));
        assertEquals(List.of(), classify("DECLARE c CURSOR FOR SELECT 1"));
        assertEquals(List.of(new SessionEffect.Pin(PinReason.SQL_PREPARE, "q")), classify("PREPARE q AS SELECT 1"));
        assertEquals(
                List.of(new SessionEffect.Pin(PinReason.ADVISORY_LOCK, "")), classify("SELECT pg_advisory_lock(1)"));
        assertEquals(List.of(), classify("SELECT pg_advisory_xact_lock(1)"));
    }

    @Test
    void stateRemovingStatementsUnpin() {
        assertEquals(List.of(new SessionEffect.DiscardAll()), classify("DISCARD ALL"));
        assertEquals(List.of(new SessionEffect.UnpinAll(PinReason.LISTEN)), classify("UNLISTEN *"));
        assertEquals(List.of(new SessionEffect.Unpin(PinReason.LISTEN, "jobs")), classify("UNLISTEN jobs"));
        assertEquals(List.of(new SessionEffect.UnpinAll(PinReason.SQL_PREPARE)), classify("DEALLOCATE ALL"));
        assertEquals(List.of(new SessionEffect.Unpin(PinReason.SQL_PREPARE, "q")), classify("DEALLOCATE PREPARE q"));
        assertEquals(
                List.of(new SessionEffect.Recheck(PinReason.ADVISORY_LOCK)), classify("SELECT pg_advisory_unlock(1)"));
        assertEquals(List.of(new SessionEffect.Recheck(PinReason.TEMP_TABLE)), classify("DROP TABLE x"));
    }

    @Test
    void startupOptionsAreParsed() {
        assertEquals(
                Map.of("search_path", "a,b", "statement_timeout", "5", "work_mem", "1MB", "geqo", "off"),
                SessionState.parseOptions("-c search_path=a,b -cstatement_timeout=5 --work-mem=1MB -c geqo=off"));
        assertEquals(Map.of("application_name", "my app"), SessionState.parseOptions("-c application_name=my\\ app"));
    }
}
