//! A customer who cannot see the screen: orders placed with keypad and headphone jack events
//! alone, the spoken transcript checked at each step, in French and in English; longer time
//! limits they can extend; speech that stops when the headphones are pulled out or the session
//! ends.
//!
//! Slint's testing backend allows one event loop per process, so this file has one test that
//! runs the scenarios in turn.

mod common;

use std::rc::Rc;
use std::sync::Arc;

use common::{Fixture, PATIENCE, Till, fixture};
use kiosk_app::headless::{sleep, wait_until};
use kiosk_app::{Screen, Session};
use kiosk_engine::devices::{AccessEvent, RecordingSpeaker, Spoken, Utterance};
use kiosk_engine::kiosk_core::config::KeypadAction::{self, Back, Louder, Next, Repeat, Select};
use slint::ComponentHandle;

/// The kiosk's speech, as a listener hears it.
struct Ears {
    speaker: RecordingSpeaker,
    /// Everything the speaker was asked, for the checks on what is never said.
    everything: std::cell::RefCell<Vec<Spoken>>,
}

impl Ears {
    /// What was said since the last call, one utterance after the other.
    fn heard(&self) -> String {
        let asked = self.speaker.take();
        let texts: Vec<String> = utterances(&asked).map(|utterance| utterance.text.clone()).collect();
        self.everything.borrow_mut().extend(asked);
        texts.join(" | ")
    }

    /// Whether speech was stopped since the `since`-th thing asked of the speaker.
    fn stopped_since(&self, since: usize) -> bool {
        self.heard();
        self.everything.borrow()[since..].contains(&Spoken::Stopped)
    }

    /// The texts said so far that opened with the warning tone.
    fn warned(&self) -> Vec<String> {
        self.heard();
        utterances(&self.everything.borrow()).filter(|utterance| utterance.warning).map(|u| u.text.clone()).collect()
    }

    fn mark(&self) -> usize {
        self.heard();
        self.everything.borrow().len()
    }
}

fn utterances(asked: &[Spoken]) -> impl Iterator<Item = &Utterance> {
    asked.iter().filter_map(|spoken| match spoken {
        Spoken::Said(utterance) | Spoken::Then(utterance) => Some(utterance),
        Spoken::Stopped => None,
    })
}

impl Fixture {
    /// Presses a key, lets the kiosk carry out what it asked of the engine, and returns what
    /// was said.
    async fn press(&self, ears: &Ears, action: KeypadAction) -> String {
        self.kiosk.access(AccessEvent::Key(action));
        sleep(std::time::Duration::from_millis(5)).await;
        ears.heard()
    }

    /// Moves with Next until the control said contains `wanted`, and selects it; returns what
    /// was heard on the way and after.
    async fn choose(&self, ears: &Ears, wanted: &str) -> String {
        let mut way = Vec::new();
        for _ in 0..120 {
            let heard = self.press(ears, Next).await;
            if heard.contains(wanted) {
                let after = self.press(ears, Select).await;
                return format!("{heard} || {after}");
            }
            way.push(heard);
        }
        panic!("never heard {wanted:?} on {:?}; heard {way:#?}", self.screen());
    }

    /// Waits for `screen`, then for speech about it to settle; returns what was heard.
    async fn hear_on(&self, ears: &Ears, screen: Screen) -> String {
        self.reach(screen).await;
        sleep(std::time::Duration::from_millis(300)).await;
        ears.heard()
    }
}

/// The words a scenario expects, in one language.
struct Expected {
    start: &'static str,
    welcome: &'static str,
    /// The question of how the customer eats, when the start did not answer it.
    eat_in: Option<&'static str>,
    burgers: &'static str,
    burger: &'static str,
    product: &'static str,
    cooking: &'static str,
    cooking_selected: &'static str,
    sauces: &'static str,
    add: &'static str,
    meal: &'static str,
    upsell: &'static str,
    burger_step: &'static str,
    side_step: &'static str,
    next_step: &'static str,
    fries: &'static str,
    drink_step: &'static str,
    drink: &'static str,
    dessert: &'static str,
    add_meal: &'static str,
    meal_added: &'static str,
    desserts: &'static str,
    dessert_added: &'static str,
    cart: &'static str,
    view_order: &'static str,
    promo: &'static str,
    apply: &'static str,
    applied: &'static str,
    pay_card: &'static str,
    pay_counter: &'static str,
    insert_card: &'static str,
    menu: &'static str,
    /// Pays by card (or at the counter).
    by_card: bool,
    number: &'static str,
}

const FRENCH: Expected = Expected {
    start: "Sur place, bouton",
    welcome: "Voix activée. Touches : 6 suivant, 4 précédent, 5 choisir, 0 retour, . répéter, * aide.",
    eat_in: None,
    burgers: "Burgers & frites, non sélectionné, 2 sur 5",
    burger: "Le Classique, 9 euros 50, bouton, 1 sur 5",
    product: "Le Classique, Steak de bœuf français 150 g, cheddar, salade, tomate, oignons rouges. 9 euros 50, Contient : \
              gluten, lait, œufs, moutarde, sésame, Cuisson du steak, choisissez-en 1. Saignant, non sélectionné, 1 sur 3",
    cooking: "Bien cuit, non sélectionné, 3 sur 3",
    cooking_selected: "Bien cuit, sélectionné, 3 sur 3",
    sauces: "Béarnaise, plus 50 centimes, non sélectionné, 4 sur 6",
    add: "Ajouter à la commande, 10 euros",
    meal: "Oui, en menu",
    upsell: "Une suggestion. Le Classique est dans votre commande, En menu ? Menu Burger, Un burger, des frites ou une \
             salade, et une boisson. plus 4 euros 40. Oui, en menu, bouton, 1 sur 1",
    burger_step: "Étape 1 sur 3 : Burger",
    side_step: "Étape 2 sur 3 : Accompagnement",
    next_step: "Étape suivante, bouton",
    fries: "Frites maison",
    drink_step: "Étape 3 sur 3 : Boisson",
    drink: "Thé glacé pêche, non sélectionné",
    dessert: "Mousse au chocolat, Végétarien, 4 euros 90",
    add_meal: "Ajouter à la commande, 14 euros",
    meal_added: "Menu Burger ajouté à votre commande",
    desserts: "Desserts, non sélectionné",
    dessert_added: "Mousse au chocolat ajouté à votre commande",
    cart: "Votre commande. Menu Burger, Le Classique : Bien cuit, Béarnaise (plus 50 centimes), Frites \
           maison, Thé glacé pêche : Canette 33 cl. Moins de Menu Burger, bouton, indisponible",
    view_order: "Voir la commande",
    promo: "J'ai un code promo",
    apply: "Appliquer, bouton",
    applied: "Code BIENVENUE10 appliqué",
    pay_card: "Payer par carte",
    pay_counter: "Payer au comptoir",
    insert_card: "Insérez ou approchez votre carte du terminal",
    menu: "Carte : les catégories",
    by_card: true,
    number: "Commande numéro A 1",
};

const ENGLISH: Expected = Expected {
    start: "English, bouton",
    welcome: "Welcome",
    eat_in: Some("Eat in, button"),
    burgers: "Burgers & fries, not selected, 2 of 5",
    burger: "The Classic, 9 euros 50, button, 1 of 5",
    product: "Steak cooking, choose 1. Rare, not selected, 1 of 3",
    cooking: "Well done, not selected, 3 of 3",
    cooking_selected: "Well done, selected, 3 of 3",
    sauces: "Béarnaise, plus 50 cents, not selected, 4 of 6",
    add: "Add to order, 10 euros",
    meal: "Yes, make it a meal",
    upsell: "A suggestion. The Classic is in your order, Make it a meal? Burger meal, A burger, fries or a salad, and a \
             drink. plus 4 euros 40. Yes, make it a meal, button, 1 of 1",
    burger_step: "Step 1 of 3: Burger",
    side_step: "Step 2 of 3: Side",
    next_step: "Next step, button",
    fries: "Homemade fries",
    drink_step: "Step 3 of 3: Drink",
    drink: "Peach iced tea, not selected",
    dessert: "Chocolate mousse, Vegetarian, 4 euros 90",
    add_meal: "Add to order, 14 euros",
    meal_added: "Burger meal added to your order",
    desserts: "Desserts, not selected",
    dessert_added: "Chocolate mousse added to your order",
    cart: "Your order. Burger meal, The Classic: Well done, Béarnaise (plus 50 cents), Homemade fries, Peach \
           iced tea: Can 33 cl. Fewer Burger meal, button, unavailable",
    view_order: "View order",
    promo: "I have a promo code",
    apply: "Apply, button",
    applied: "Code BIENVENUE10 applied",
    pay_card: "Pay by card",
    pay_counter: "Pay at the counter",
    insert_card: "Insert, tap or swipe your card",
    menu: "Menu: the categories",
    by_card: false,
    number: "Order number A 2",
};

#[test]
fn a_customer_who_cannot_see_the_screen_orders_by_keypad_and_speech() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let fixture = Rc::new(fixture(dir.path(), "menus/brasserie/menu.toml", Till::StandIn));
    let ears = Rc::new(Ears { speaker: RecordingSpeaker::default(), everything: Default::default() });
    fixture.kiosk.speak_with(Arc::new(ears.speaker.clone()));
    common::run(fixture, async move |fixture| {
        headphones_start_speech_and_every_screen_names_its_controls(fixture, &ears).await;
        an_order_end_to_end(fixture, &ears, &FRENCH).await;
        an_order_end_to_end(fixture, &ears, &ENGLISH).await;
        time_limits_are_longer_and_extended_by_a_key(fixture, &ears).await;
        pulling_the_headphones_out_stops_speech_and_the_dark_screen(fixture, &ears).await;
        ears.heard();
        let everything: Vec<String> =
            utterances(&ears.everything.borrow()).map(|utterance| utterance.text.clone()).collect();
        let everything = everything.join(" ");
        assert!(
            !everything.as_bytes().windows(8).any(|run| run.iter().all(u8::is_ascii_digit)),
            "no long number (card data) was ever said: {everything}"
        );
    });
}

async fn headphones_start_speech_and_every_screen_names_its_controls(fixture: &Fixture, ears: &Ears) {
    fixture.reach(Screen::Attract).await;
    assert_eq!(ears.heard(), "", "silent until the headphones are in");
    fixture.kiosk.access(AccessEvent::Headphones(true));
    let heard = ears.heard();
    assert!(heard.starts_with(FRENCH.welcome), "the keys first: {heard}");
    assert!(heard.contains("Bienvenue. Brasserie du Marché, Commandez et payez ici. Sur place, bouton"), "{heard}");
    assert_eq!(fixture.press(ears, Next).await, "À emporter, bouton");
    assert_eq!(fixture.press(ears, Next).await, "Français, bouton");
    assert_eq!(fixture.press(ears, Next).await, "English, bouton");
    assert_eq!(fixture.press(ears, Next).await, "Accessibilité, bouton");
    assert_eq!(
        fixture.press(ears, Next).await,
        "Haut de l'écran. Brasserie du Marché, Commandez et payez ici, Sur place, bouton",
        "round again, with the texts that lead to it"
    );
    assert_eq!(fixture.press(ears, KeypadAction::Previous).await, "Bas de l'écran. Accessibilité, bouton");
    let heard = fixture.press(ears, Select).await;
    assert!(heard.starts_with("Accessibilité"), "the panel is announced: {heard}");
    let heard = fixture.choose(ears, "Écran noir pour la confidentialité, non sélectionné").await;
    assert!(heard.ends_with("|| Écran noir pour la confidentialité, sélectionné"), "said in its new state: {heard}");
    assert!(fixture.ui().global::<Session>().get_screen_dark(), "the screen went dark");
    let heard = fixture.press(ears, Back).await;
    assert!(heard.starts_with("Bienvenue"), "Back closes the panel: {heard}");
    assert!(kiosk_app::unnamed_controls(fixture.ui()).is_empty(), "{:?}", kiosk_app::unnamed_controls(fixture.ui()));
}

async fn an_order_end_to_end(fixture: &Fixture, ears: &Ears, words: &Expected) {
    fixture.reach(Screen::Attract).await;
    if !fixture.ui().global::<Session>().get_speaking() {
        let mark = ears.mark();
        let heard = fixture.press(ears, Next).await;
        assert!(heard.contains("Bienvenue"), "any key starts speech again: {heard}");
        let voice: Vec<(u32, u32)> =
            utterances(&ears.everything.borrow()[mark..]).map(|utterance| (utterance.rate, utterance.volume)).collect();
        assert!(voice.iter().all(|voice| *voice == (175, 100)), "in the voice's own rate and volume: {voice:?}");
    }
    // "Eat in" on the attract screen goes to the menu; a language first asks how they eat.
    let heard = fixture.choose(ears, words.start).await;
    let heard = match words.eat_in {
        Some(eat_in) => {
            assert!(heard.contains(eat_in), "the eat-in question, in the language chosen: {heard}");
            fixture.press(ears, Select).await
        }
        None => heard,
    } + &fixture.hear_on(ears, Screen::Menu).await;
    assert!(heard.contains(words.menu), "announced: {heard}");
    let heard = fixture.choose(ears, words.burgers).await;
    assert!(
        heard.contains(&words.burgers.replace("non sélectionné", "sélectionné").replace("not selected", "selected")),
        "{heard}"
    );
    let heard = fixture.choose(ears, words.burger).await + &fixture.hear_on(ears, Screen::Product).await;
    assert!(heard.contains(words.product), "the sheet opens on its first choice: {heard}");
    let heard = fixture.choose(ears, words.cooking).await;
    assert!(heard.ends_with(words.cooking_selected), "the new state is said: {heard}");
    fixture.choose(ears, words.sauces).await;
    let heard = fixture.choose(ears, words.add).await;
    assert!(heard.contains(words.upsell), "make it a meal, offered at once: {heard}");
    fixture.reach(Screen::Upsell).await;
    let heard = fixture.choose(ears, words.meal).await + &fixture.hear_on(ears, Screen::Product).await;
    assert!(heard.contains(words.burger_step), "the meal's first step, its burger chosen already: {heard}");
    let heard = fixture.choose(ears, words.next_step).await;
    assert!(heard.contains(words.side_step), "the meal's second step: {heard}");
    fixture.choose(ears, words.fries).await;
    let heard = fixture.choose(ears, words.next_step).await;
    assert!(heard.contains(words.drink_step), "the combo's step: {heard}");
    // Another drink than the menu's default, in its default size.
    fixture.choose(ears, words.drink).await;
    let heard = fixture.choose(ears, words.add_meal).await + &fixture.hear_on(ears, Screen::Menu).await;
    assert!(heard.contains(words.meal_added), "{heard}");
    fixture.choose(ears, words.desserts).await;
    // A dessert has no options: its card adds it.
    let heard = fixture.choose(ears, words.dessert).await + &fixture.hear_on(ears, Screen::Menu).await;
    assert!(heard.contains(words.dessert_added), "{heard}");
    let heard = fixture.choose(ears, words.view_order).await + &fixture.hear_on(ears, Screen::Cart).await;
    assert!(heard.contains(words.cart), "the cart is announced: {heard}");

    // The promo code, typed on the screen's keyboard with the keypad.
    fixture.choose(ears, words.promo).await;
    for letter in "BIENVENUE10".chars() {
        fixture.choose(ears, &format!("{letter}, b")).await;
    }
    let heard = fixture.choose(ears, words.apply).await;
    let heard = if heard.contains(words.applied) { heard } else { heard + &fixture.hear_on(ears, Screen::Cart).await };
    assert!(heard.contains(words.applied), "the notice is said: {heard}");

    // Card in French, counter in English: the terminal's words, the outcome, the number.
    let before_the_end = ears.mark();
    if words.by_card {
        let mut heard = fixture.choose(ears, words.pay_card).await;
        assert!(
            wait_until(PATIENCE, || {
                heard.push_str(&ears.heard());
                heard.contains(words.insert_card)
            })
            .await,
            "the terminal's instructions: {heard}"
        );
        let heard = fixture.hear_on(ears, Screen::Done).await;
        assert!(heard.contains(words.number), "the order number: {heard}");
        let repeated = fixture.press(ears, Repeat).await;
        assert!(repeated.contains(words.number), "repeated on request: {repeated}");
        let back = fixture.press(ears, Back).await;
        assert!(back.contains(words.number), "Back keeps the number, and says it again: {back}");
        assert_eq!(fixture.screen(), Screen::Done);
        fixture.press(ears, Louder).await;
        fixture.choose(ears, "Terminer").await;
    } else {
        let heard = fixture.choose(ears, words.pay_counter).await + &fixture.hear_on(ears, Screen::Done).await;
        assert!(heard.contains(words.number), "the order number: {heard}");
        fixture.choose(ears, "Finish").await;
    }
    fixture.reach(Screen::Attract).await;
    assert!(ears.stopped_since(before_the_end), "the session's end stops speech");
    assert!(!fixture.ui().global::<Session>().get_speaking(), "and turns it off for the next customer");
}

async fn time_limits_are_longer_and_extended_by_a_key(fixture: &Fixture, ears: &Ears) {
    fixture.reach(Screen::Attract).await;
    fixture.kiosk.access(AccessEvent::Headphones(true));
    fixture.choose(ears, "Sur place, bouton").await;
    fixture.reach(Screen::Menu).await;
    // The fixture's idle time is 5 s; while speaking it is three times that.
    sleep(std::time::Duration::from_secs(7)).await;
    assert!(!fixture.ui().global::<Session>().get_still_there(), "not asked after a sighted customer's time");
    assert!(
        wait_until(std::time::Duration::from_secs(15), || fixture.ui().global::<Session>().get_still_there()).await
    );
    let heard = ears.heard();
    assert!(
        heard.contains(
            "Le temps est bientôt écoulé. Êtes-vous toujours là ? Votre commande sera effacée dans 3 secondes. Oui, je \
             suis là, bouton"
        ),
        "{heard}"
    );
    let warned = ears.warned();
    assert!(
        warned.last().is_some_and(|text| text.starts_with("Le temps est bientôt écoulé")),
        "the question opens with the warning tone: {warned:?}"
    );
    assert!(warned.iter().all(|text| text.starts_with("Le temps")), "and nothing else does: {warned:?}");
    fixture.press(ears, Select).await;
    assert!(!fixture.ui().global::<Session>().get_still_there(), "extended");
    let heard = ears.heard();
    assert!(heard.is_empty() || heard.contains("Carte"), "{heard}");
    assert_eq!(fixture.screen(), Screen::Menu);
}

async fn pulling_the_headphones_out_stops_speech_and_the_dark_screen(fixture: &Fixture, ears: &Ears) {
    fixture.reach(Screen::Menu).await;
    fixture.ui().global::<Session>().set_screen_dark(true);
    let mark = ears.mark();
    fixture.kiosk.access(AccessEvent::Headphones(false));
    ears.heard();
    assert_eq!(ears.everything.borrow()[mark..], [Spoken::Stopped], "stopped at once, nothing more said");
    assert!(!fixture.ui().global::<Session>().get_screen_dark(), "the screen lights again");
    assert_eq!(fixture.screen(), Screen::Menu, "the order goes on by touch");
    fixture.kiosk.access(AccessEvent::Headphones(true));
    assert!(ears.heard().contains("Carte"), "plugged in again, the place is said");
    fixture.kiosk.access(AccessEvent::Headphones(false));
    assert_eq!(fixture.press(ears, Next).await, "", "no headphones: a key starts nothing aloud");
    assert!(!fixture.ui().global::<Session>().get_speaking());
    fixture.start_again().await;
}
