<?php

// The Laravel sample's front controller. Like a Laravel app it answers its health route /up
// without touching the database, and reads its settings from the environment Laravel uses:
// DB_CONNECTION, DB_HOST, DB_PORT, DB_DATABASE, DB_USERNAME, DB_PASSWORD (the Laravel construct
// injects the last four from the database's secret), APP_KEY, LOG_CHANNEL=stderr.
// GET / counts a visit in MySQL and, when storage/app is writable (EFS), in a file there.

declare(strict_types=1);

const STORAGE_DIR = __DIR__ . '/../storage/app';

function database_status(): array
{
    $dsn = sprintf(
        'mysql:host=%s;port=%s;dbname=%s',
        getenv('DB_HOST') ?: '127.0.0.1',
        getenv('DB_PORT') ?: '3306',
        getenv('DB_DATABASE') ?: 'laravel'
    );
    try {
        $pdo = new PDO($dsn, getenv('DB_USERNAME') ?: 'root', getenv('DB_PASSWORD') ?: '', [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_TIMEOUT => 3,
        ]);
        $pdo->exec('CREATE TABLE IF NOT EXISTS visits (id BIGINT AUTO_INCREMENT PRIMARY KEY, '
            . 'visited_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)');
        $pdo->exec('INSERT INTO visits () VALUES ()');
        return [
            'connected' => true,
            'server_version' => $pdo->getAttribute(PDO::ATTR_SERVER_VERSION),
            'visits' => (int) $pdo->query('SELECT COUNT(*) FROM visits')->fetchColumn(),
        ];
    } catch (PDOException $error) {
        // The message names the host, never the password; it goes to the log, not the page.
        file_put_contents('php://stderr', 'database: ' . $error->getMessage() . PHP_EOL);
        return ['connected' => false];
    }
}

function storage_status(string $directory): array
{
    if (!is_dir($directory) || !is_writable($directory)) {
        return ['writable' => false];
    }
    $file = $directory . '/visits.txt';
    $visits = (int) @file_get_contents($file) + 1;
    file_put_contents($file, (string) $visits, LOCK_EX);
    return ['writable' => true, 'visits' => $visits];
}

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
header('Content-Type: application/json');

if ($path === '/up') {
    echo json_encode(['status' => 'up']);
} elseif ($path === '/') {
    echo json_encode([
        'app' => 'dualalb-kit Laravel sample',
        'app_key_set' => strlen((string) getenv('APP_KEY')) >= 32,
        'database' => database_status(),
        'storage' => storage_status(STORAGE_DIR),
    ], JSON_PRETTY_PRINT);
} else {
    http_response_code(404);
    echo json_encode(['error' => 'not found']);
}
