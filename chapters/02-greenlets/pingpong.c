/*
 * pingpong.c - article 003, section 1.2, in C: two greenlets switch.
 *
 * task01 prints ---1---, sleeps 0.2 s and switches to gr2; task02 prints
 * ---2---, sleeps and switches back.  Nobody schedules them: each names the
 * next one to run.  gr1 stops after four rounds so the demo ends.  Then a
 * switch carries values: one each way, and a return value for the parent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "green.h"

enum { ROUNDS = 4 };
static green_t *gr1, *gr2;

/* The article's time.sleep(0.2): it blocks the whole program, on purpose. */
static void sleep_a_little(void)
{
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

static void *task01(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        printf("---1---\n");
        sleep_a_little();
        green_switch(gr2, NULL);    /* gr2 runs; we continue here later */
    }
    return NULL;                    /* gr1 dies: its parent (main) resumes */
}

static void *task02(void *arg)
{
    (void)arg;
    for (;;) {
        printf("---2---\n");
        sleep_a_little();
        green_switch(gr1, NULL);
    }
    return NULL;    /* never reached: gr2 is still waiting when main frees it */
}

/* Locals survive switches: `total` lives on the counter's own stack. */
static void *word_counter(void *first_word)
{
    size_t total = 0;
    for (char *word = first_word; word != NULL;
         word = green_switch(green_parent(green_current()), &total)) {
        total += strlen(word);
        printf("  counter: got \"%s\", total %zu\n", word, total);
    }
    return "counter: no more words, bye";   /* reaches the parent */
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* lines appear as they happen */

    gr1 = green_new(task01, 0);
    gr2 = green_new(task02, 0);
    green_switch(gr1, NULL);            /* the article's gr1.switch() */
    printf("main: gr1 is dead (%d), gr2 is still waiting (dead %d)\n",
           green_dead(gr1), green_dead(gr2));
    green_free(gr1);
    green_free(gr2);                    /* abandons gr2's endless loop */

    printf("\nvalues both ways:\n");
    green_t *counter = green_new(word_counter, 0);
    char *words[] = { "ping", "pong", "greenlet" };
    for (int i = 0; i < 3; i++) {
        size_t *total = green_switch(counter, words[i]);
        printf("main: sent \"%s\", the counter's total is now %zu\n", words[i], *total);
    }
    printf("main: its return value: \"%s\"\n", (char *)green_switch(counter, NULL));
    green_free(counter);
    return 0;
}
