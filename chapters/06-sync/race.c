/*
 * race.c - no preemption, and still a race.  Two ATMs withdraw 80 from an
 * account holding 100.  Each reads the balance, asks the bank (a 10 ms
 * wait, during which the other greenlet runs), then writes the new balance.
 * Both read 100 before either writes, so both withdrawals are granted: 160
 * paid out of 100.  A green_lock_t around read-wait-write makes the second
 * ATM wait for the first, see 20, and refuse.
 */
#include <stdio.h>

#include "green.h"
#include "sync.h"

static long balance, paid_out;

struct atm { const char *name; green_lock_t *lock; };

static void *withdraw(void *arg)
{
    struct atm *atm = arg;
    if (atm->lock && green_lock_acquire(atm->lock, GREEN_FOREVER) < 0)
        return NULL;

    long seen = balance;                        /* read */
    printf("%s: balance is %ld, asking the bank...\n", atm->name, seen);
    green_sleep(0.01);                          /* wait: the other ATM runs */
    if (seen >= 80) {
        balance = seen - 80;                    /* write what we read, less 80 */
        paid_out += 80;
        printf("%s: paid 80, balance now %ld\n", atm->name, balance);
    } else {
        printf("%s: refused, the balance is only %ld\n", atm->name, seen);
    }

    if (atm->lock)
        green_lock_release(atm->lock);
    return NULL;
}

static void two_withdrawals(green_lock_t *lock)
{
    struct atm a = { "ATM A", lock }, b = { "ATM B", lock };
    balance = 100;
    paid_out = 0;
    green_t *g[2] = { green_spawn(withdraw, &a), green_spawn(withdraw, &b) };
    green_joinall(g, 2, GREEN_FOREVER);
    green_free(g[0]);
    green_free(g[1]);
    printf("=> paid out %ld from an account of 100, balance %ld\n", paid_out, balance);
}

int main(void)
{
    printf("1. without a lock\n");
    two_withdrawals(NULL);

    printf("2. with a lock around read, wait, write\n");
    green_lock_t *lock = green_lock_new();
    two_withdrawals(lock);

    green_lock_free(lock);
    green_hub_destroy();
    return 0;
}
